"""Append-only JSONL files (samples, resume journal) whose every line lands whole or not at all.

A full disk (``ENOSPC``, ``EDQUOT``, or ``EFBIG`` under a file-size limit) can cut a write
short. A cut line followed by later appends would glue two records into one unreadable line,
and a half-written sample must never count as finished. So each line goes out through
``os.write`` (looped on short writes) and on any failure the file is truncated back to where
the line began (shrinking a file needs no free space) before ``StorageError`` says which file
and why. One ``write`` syscall per line, as the buffered write + flush it replaces.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from medevals.errors import StorageError, os_error_hint


def storage_error(path: Path | str, e: OSError, doing: str = "cannot write") -> StorageError:
    """One line naming the file and the cause, with what to do (errors.os_error_hint's table)."""
    why = e.strerror or type(e).__name__
    hint = os_error_hint(e)
    return StorageError(f"{path}: {doing} ({why})" + (f"; {hint}" if hint else ""))


class LineAppender:
    """Appends whole lines to one file; the caller is its only writer (the run folder's lock)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._size = 0

    def append(self, line: str) -> None:
        """Write ``line`` (ending in a newline) completely, or leave the file as it was."""
        data = line.encode("utf-8")
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                self._size = os.fstat(self._fd).st_size
        except OSError as e:
            raise storage_error(self.path, e, "cannot open for writing") from None
        fd, start = self._fd, self._size
        view = memoryview(data)
        try:
            while view:
                n = os.write(fd, view)
                if n <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[n:]
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise storage_error(self.path, e) from None
        self._size = start + len(data)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def cut_torn_tail(path: Path) -> int:
    """Cut a last line without its newline (a crash mid-write) so appends start clean.

    Returns the bytes removed. Reads only the file's tail, not the whole file.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with path.open("r+b") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return 0
        # Search backwards in blocks for the last newline.
        pos, block = size, 1 << 16
        keep = 0
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            chunk = fh.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                keep = start + i + 1
                break
            pos = start
        fh.truncate(keep)
    return size - keep
