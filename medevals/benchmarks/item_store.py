"""Loaded items kept compact: one JSON blob per item, rebuilt into an ``Item`` when a unit needs it.

A pydantic ``Item`` costs about 2 KB of memory for a 250-byte JSONL row; a run of 100,000 items
would hold hundreds of MB just to know what to ask next. The store keeps each item as its JSON
bytes plus its id (for resume bookkeeping without decoding), so memory grows by roughly the size of
the data itself, and a loader that yields items one at a time never materialises them all at once.
It is a read-only ``Sequence[Item]``: indexing, slicing (``items[:limit]``), ``len`` and iteration
work as on a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from medevals.errors import DataError
from medevals.schema import Item


class ItemStore(Sequence[Item]):
    __slots__ = ("_blobs", "_ids")

    def __init__(self, blobs: list[bytes] | None = None, ids: list[str] | None = None):
        self._blobs: list[bytes] = blobs if blobs is not None else []
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
            store._blobs.append(it.model_dump_json().encode())
            store._ids.append(it.id)
        return store

    def id_at(self, index: int) -> str:
        return self._ids[index]

    def __len__(self) -> int:
        return len(self._blobs)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> ItemStore: ...

    def __getitem__(self, index: int | slice) -> Item | ItemStore:
        if isinstance(index, slice):
            return ItemStore(self._blobs[index], self._ids[index])
        return Item.model_validate_json(self._blobs[index])

    def __iter__(self) -> Iterator[Item]:
        for blob in self._blobs:
            yield Item.model_validate_json(blob)
