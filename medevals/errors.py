"""User-facing errors: each renders as one clear line naming what went wrong and where.

The CLI catches ``MedevalsError`` and prints ``str(err)`` with a non-zero exit; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import re


def reason_key(message: str, limit: int = 40) -> str:
    """The short part of an error message that counts it (``HTTP 503``, ``timeout after 30s (before
    headers)``, ``TimeoutError``): the text before the first ": ", cut at a word boundary when
    longer than ``limit`` (never mid-word, never leaving a bracket open), ``…`` marking the cut."""
    head = re.split(r":(?:\s|$)", message, maxsplit=1)[0].strip()  # not the colon of a URL
    if len(head) <= limit:
        return head
    cut = head[: limit + 1]
    cut = cut[: cut.rfind(" ")].rstrip() if " " in cut.strip() else head[:limit]
    if cut.count("(") > cut.count(")"):
        cut = cut[: cut.rfind("(")].rstrip() or cut
    return cut + "…"


class MedevalsError(Exception):
    """An error caused by input, configuration or environment, not by a bug."""

    exit_code = 2


class ConfigError(MedevalsError):
    """Bad command-line option, unknown benchmark/model/protocol option."""


class DataError(MedevalsError):
    """Benchmark data that is missing or malformed; names the file, line and field."""

    def __init__(
        self, message: str, *, path: object = None, line: int | None = None, field: str | None = None
    ):
        self.path, self.line, self.field = path, line, field
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}{what}{message}")


class ModelError(MedevalsError):
    """A model backend that cannot be reached or configured (after retries)."""

    exit_code = 3


class RunError(MedevalsError):
    """A run folder that is missing, incomplete or inconsistent."""


class StorageError(RunError):
    """The run folder cannot be written (disk full, file-size limit, read-only): the run stops
    as ``interrupted`` with every whole line kept, and resumes once space is free."""


class FolderBusy(RunError):
    """A run folder held by another live process (its lock); says which one."""


class Interrupted(MedevalsError):
    """Ctrl-C, SIGTERM or SIGHUP: the run stopped cleanly, saved what it finished, and resumes
    with the same command. Exit code 128 + the signal number, as a shell reports it."""

    def __init__(self, message: str, signum: int = 2):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


_OS_HINTS = {
    "ENOSPC": "the disk is full: free some space, then rerun the same command; a run resumes where it stopped",
    "EDQUOT": "the disk quota is exceeded: free some space, then rerun the same command",
    "EFBIG": "the file is larger than this disk or limit allows: free some space or raise the limit, then rerun",
    "EROFS": "choose a writable location",
    "EACCES": "check the permissions or choose another location",
    "EPERM": "check the permissions or choose another location",
    "ENOTDIR": "a part of this path is a file, not a folder",
    "EISDIR": "this is a folder; a file is expected here",
}


def os_error_hint(e: OSError) -> str:
    """What to do about a failed file operation ('' when there is nothing useful to say): one
    table so the CLI's messages and the run writers' StorageError give the same advice."""
    import errno

    return _OS_HINTS.get(errno.errorcode.get(e.errno or 0, ""), "")


def os_error_message(e: OSError) -> str:
    """One line for a failed file operation (full disk, read-only or missing path): the path,
    what the system said, and what to do. These come from the environment, not from a bug."""

    where = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
    what = e.strerror or str(e) or type(e).__name__
    hint = os_error_hint(e)
    return (f"{where}: " if where else "") + what + (f" ({hint})" if hint else "")
