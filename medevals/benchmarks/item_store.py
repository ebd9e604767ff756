"""Loaded items kept out of memory: one JSON blob per item in a temporary file, rebuilt into an
``Item`` when a unit needs it.

A pydantic ``Item`` costs about 2 KB of memory for a 250-byte JSONL row, and even its JSON bytes
grow a 100,000-item run by tens of MB just to know what to ask next. The store writes each item's
JSON to an anonymous temporary file (deleted by the OS when the store goes) and keeps only its
offset, length and id, about 80 bytes per item: the id is what resume bookkeeping reads for every
unit, so it stays in memory and is never decoded from JSON. A unit reads its one item back when a
worker takes it. A loader that yields items one at a time never materialises them all at once.
It is a read-only ``Sequence[Item]``: indexing, slicing (``items[:limit]``, which shares the
file), ``len`` and iteration work as on a list.
"""

from __future__ import annotations

import tempfile
import threading
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, overload

from medevals.errors import DataError
from medevals.schema import Item


class _Spill:
    """Append-only temporary file shared by a store and its slices."""

    __slots__ = ("__weakref__", "_at_end", "_file", "_lock", "_size")

    def __init__(self) -> None:
        # Lives as long as the store (and its slices); closed, and so deleted, when they go.
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="medevals-items-")  # noqa: SIM115
        weakref.finalize(self, self._file.close)
        self._lock = threading.Lock()
        self._size = 0
        self._at_end = True  # no read has moved the position since the last write

    def append(self, blob: bytes) -> int:
        with self._lock:
            offset = self._size
            if not self._at_end:  # a seek flushes the write buffer: only when a read moved away
                self._file.seek(offset)
                self._at_end = True
            self._file.write(blob)
            self._size += len(blob)
            return offset

    def read(self, offset: int, length: int) -> bytes:
        with self._lock:
            self._file.seek(offset)  # a buffered seek flushes pending writes first
            self._at_end = False
            return self._file.read(length)


class ItemStore(Sequence[Item]):
    __slots__ = ("_ids", "_lengths", "_offsets", "_spill")

    def __init__(
        self,
        spill: _Spill | None = None,
        offsets: array[int] | None = None,
        lengths: array[int] | None = None,
        ids: list[str] | None = None,
    ):
        self._spill = spill
        self._offsets: array[int] = offsets if offsets is not None else array("Q")
        self._lengths: array[int] = lengths if lengths is not None else array("I")
        self._ids: list[str] = ids if ids is not None else []

    @classmethod
    def collect(cls, items: Iterable[Item], where: str) -> ItemStore:
        """Store items as they are yielded; a repeated id is a data error naming ``where``."""
        store = cls()
        seen: set[str] = set()
        for it in items:
            if it.id in seen:
                raise DataError(f"duplicate item id '{it.id}'", path=where)
            seen.add(it.id)
            store._append(it)
        return store

    def _append(self, item: Item) -> None:
        if self._spill is None:
            self._spill = _Spill()
        blob = item.model_dump_json().encode()
        self._offsets.append(self._spill.append(blob))
        self._lengths.append(len(blob))
        self._ids.append(item.id)

    def id_at(self, index: int) -> str:
        return self._ids[index]

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> ItemStore: ...

    def __getitem__(self, index: int | slice) -> Item | ItemStore:
        if isinstance(index, slice):
            return ItemStore(self._spill, self._offsets[index], self._lengths[index], self._ids[index])
        if self._spill is None:
            raise IndexError("ItemStore index out of range")
        return Item.model_validate_json(self._spill.read(self._offsets[index], self._lengths[index]))

    def __iter__(self) -> Iterator[Item]:
        for i in range(len(self)):
            yield self[i]
