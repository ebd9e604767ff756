"""The run folder: ``manifest.json``, ``samples.jsonl`` (streamed), ``metrics.json`` (+ ``execution.json``), ``report.html``.

Samples are appended one whole line at a time (``engine/jsonl_append``): a crash or a full
disk never leaves half a sample that counts, and memory stays flat in the number of items.
A unit that failed is written as an error sample and retried by the next run of the same
command; its retry is appended, and readers take the *latest* line per ``unit_id``, so the
file stays append-only and streamable. The manifest and metrics are rewritten atomically
(temp file + rename).

One live process per folder: a run holds an exclusive ``flock`` on ``.lock`` (which names the
holder: pid, host, start time) for as long as it writes. The kernel drops the lock when the
process dies, so ``kill -9`` never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import socket
from collections.abc import Iterator
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from medevals.engine.jsonl_append import LineAppender, cut_torn_tail, storage_error
from medevals.errors import FolderBusy, RunError
from medevals.runs import execution
from medevals.schema import RunManifest, Sample

try:  # POSIX; without it (Windows) runs are not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

MANIFEST = "manifest.json"
SAMPLES = "samples.jsonl"
METRICS = "metrics.json"
EXECUTION = execution.EXECUTION
JOURNAL = "journal.jsonl"
REPORT = "report.html"
LOCK = ".lock"

#: How ``Sample.model_dump_json`` starts a line: lets a reader take the unit id without parsing.
_UID_PREFIX = '{"unit_id":'


def slug(text: str, max_len: int = 40) -> str:
    """A folder-name part; a long one is cut at a ``-``/``.``/``_`` boundary (``...-70B-Instruct``,
    not ``...-Instruct-Tu``) unless that would drop more than half of it."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    if len(s) > max_len:
        head = s[: max_len + 1]
        cut = max(head.rfind(c) for c in "-._")
        s = (s[:cut] if cut >= max_len // 2 else s[:max_len]).rstrip("-._")
    return s or "x"


def benchmarks_slug(names: list[str], max_len: int = 40) -> str:
    """``a+b+c``, cut at a benchmark boundary with ``+N`` for the N left out (never mid-word)."""
    slugs = [slug(n, max_len) for n in names] or ["x"]
    for k in range(len(slugs), 0, -1):
        rest = len(slugs) - k
        text = "+".join(slugs[:k]) + (f"+{rest}" if rest else "")
        if len(text) <= max_len:
            return text
    suffix = f"+{len(slugs) - 1}" if len(slugs) > 1 else ""
    return slug(slugs[0], max_len - len(suffix)) + suffix


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise storage_error(path, e) from None


def _unit_id_of(line: str) -> str:
    # the fast path only for the writer's own layout: '{"unit_id": "x"' (json.dumps, a hand
    # edit) would otherwise read as an empty id and merge every unit into one
    if line.startswith(_UID_PREFIX + '"'):
        with contextlib.suppress(ValueError, IndexError):
            return scanstring(line, len(_UID_PREFIX) + 1)[0]
    try:
        return str(json.loads(line).get("unit_id", ""))
    except (ValueError, AttributeError):
        return ""  # the full parse names the line


def _holder_text(info: dict[str, Any] | None) -> str:
    if not info:
        return "holder unknown"
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started_at', '?')}"


class RunFolder:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._samples: LineAppender | None = None
        self._lock_fd: int | None = None

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def samples_path(self) -> Path:
        return self.path / SAMPLES

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def execution_path(self) -> Path:
        return self.path / EXECUTION

    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK

    @classmethod
    def open(cls, path: Path | str) -> RunFolder:
        folder = cls(path)
        if not folder.manifest_path.exists():
            raise RunError(f"{folder.path}: not a run folder (no {MANIFEST})")
        return folder

    def create(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise
        except OSError as e:
            raise storage_error(self.path, e, "cannot create the run folder") from None

    # -- the lock: one live process per folder
    def lock(self, command: list[str] | None = None, *, hint: str = "wait for it to finish") -> None:
        """Hold the folder for this process, or raise ``FolderBusy`` naming the live holder."""
        if fcntl is None or self._lock_fd is not None:
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(self.lock_path, e, "cannot create the lock file") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            info = _read_holder(fd)
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FolderBusy(
                    f"{self.path} is in use by another medevals process ({_holder_text(info)}); {hint}"
                ) from None
            raise storage_error(self.lock_path, e, "cannot lock") from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command or [],
        }
        with contextlib.suppress(OSError):  # the lock holds even if a full disk refuses the note
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def live_holder(self) -> dict[str, Any] | None:
        """The live process holding this folder's lock (this one included), else None."""
        if fcntl is None:
            return None
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return _read_holder(fd) or {}
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    # -- manifest
    def read_manifest(self) -> RunManifest:
        try:
            return RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunError(f"{self.path}: not a run folder (no {MANIFEST})") from None
        except ValueError as e:
            raise RunError(f"{self.manifest_path}: unreadable manifest ({_first_error(e)})") from None

    def write_manifest(self, manifest: RunManifest) -> None:
        _atomic_write(self.manifest_path, manifest.model_dump_json(indent=2))

    # -- samples
    def finished_units(self) -> set[str]:
        """Units whose latest sample has no error: a failed unit is not finished, a re-run retries it."""
        return {s.unit_id for s in self.iter_samples() if s.error is None}

    def has_work(self) -> bool:
        """Whether anything a resume would use was written (samples or journalled calls)."""
        return any(p.exists() and p.stat().st_size > 0 for p in (self.samples_path, self.journal_path))

    def _superseded(self) -> set[int]:
        """Line numbers whose unit has a later line (a failed unit retried): readers skip them."""
        last: dict[str, int] = {}
        old: set[int] = set()
        with self.samples_path.open("rb") as fh:
            for n, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    break
                uid = _unit_id_of(raw.decode("utf-8", errors="replace"))  # the full parse names bad bytes
                if uid in last:
                    old.add(last[uid])
                last[uid] = n
        return old

    def iter_samples(
        self, *, all_lines: bool = False, ordered: bool = False, benchmark: str | None = None
    ) -> Iterator[Sample]:
        """Stream the latest sample of each unit (every line with ``all_lines``); a torn final
        line (crash mid-write) is skipped. ``ordered`` yields them sorted by unit id instead of
        in the order they finished (see ``_iter_ordered``); with ``benchmark`` too, only that
        benchmark's (other lines are never parsed)."""
        if not self.samples_path.exists():
            return
        if ordered and not all_lines:
            yield from self._iter_ordered(benchmark)
            return
        if benchmark is not None:
            raise ValueError("iter_samples: benchmark= needs ordered=True")
        skip = set() if all_lines else self._superseded()
        with self.samples_path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.endswith(b"\n"):
                    return
                if n in skip:
                    continue
                try:
                    yield Sample.model_validate_json(line)
                except ValueError as e:  # invalid UTF-8 and JSON included
                    raise RunError(
                        f"{self.samples_path}:{n}: unreadable sample ({_first_error(e)})"
                    ) from None

    def check_samples(self, parse_first: int = 0) -> int:
        """Check every line of samples.jsonl is a whole sample record; returns the number of lines.

        The first ``parse_first`` lines (those a report shows) are fully parsed; the rest get a
        framing check (UTF-8, one ``{"unit_id": ...}`` object per line), which stays well under a
        second per 100,000 samples. A torn last line (a crash mid-write) is skipped, as everywhere.
        """
        n = 0
        if not self.samples_path.exists():
            return n
        with self.samples_path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.endswith(b"\n"):
                    return n - 1
                if n <= parse_first:
                    try:
                        Sample.model_validate_json(line)
                    except ValueError as e:
                        raise RunError(
                            f"{self.samples_path}:{n}: unreadable sample ({_first_error(e)})"
                        ) from None
                    continue
                problem = ""
                if not (line.startswith(b'{"unit_id":') and line.rstrip(b"\r\n").endswith(b"}")):
                    problem = "not a sample record"
                else:
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError as e:
                        problem = f"not valid UTF-8 (byte {e.start} of the line)"
                if problem:
                    raise RunError(
                        f"{self.samples_path}:{n}: unreadable sample ({problem}); the file is damaged"
                    )
        return n

    def _iter_ordered(self, benchmark: str | None = None) -> Iterator[Sample]:
        """The latest sample of each unit, by unit id: the order in which metrics are computed.

        Samples land in the order units finish, which differs between two runs of the same
        command (concurrency, a Ray cluster, a resume). Aggregates that depend on order (float
        sums, the first-seen order of error kinds, protocol summaries) would then differ in
        their last digits; fed in unit order, identical samples give byte-identical metrics.
        One pass notes each unit's latest line offset (8 bytes + its id), then lines are read
        back by seeking: memory stays small in the number of samples.
        """
        last: dict[str, tuple[int, int]] = {}
        with self.samples_path.open("rb") as fh:
            pos = 0
            for n, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    break
                uid = _unit_id_of(raw[:4096].decode("utf-8", "replace"))
                last[uid or _unit_id_of(raw.decode("utf-8", errors="replace"))] = (pos, n)
                pos += len(raw)
            # a unit id starts with its benchmark's name and "/" (``Unit.unit_id``)
            prefix = None if benchmark is None else benchmark + "/"
            for uid in sorted(last):
                if prefix is not None and not uid.startswith(prefix):
                    continue
                off, n = last[uid]
                fh.seek(off)
                try:
                    s = Sample.model_validate_json(fh.readline())
                except ValueError as e:  # invalid UTF-8 and JSON included
                    raise RunError(
                        f"{self.samples_path}:{n}: unreadable sample ({_first_error(e)})"
                    ) from None
                if benchmark is None or s.benchmark == benchmark:
                    yield s

    def iter_by_unit(self) -> Iterator[tuple[Sample, bool, bytes]]:
        """Every whole line as (sample, is the unit's latest, the line), grouped by unit in unit-id order,
        each unit's lines in file order (its latest last): what ``rescore`` rewrites, so the
        file it writes keeps every attempt and the latest-line-wins rule, and its latest
        samples come out in the order metrics are computed in."""
        for n, line, latest in self.iter_lines_by_unit():
            yield self.parse_line(line, n), latest, line

    def iter_lines_by_unit(self) -> Iterator[tuple[int, bytes, bool]]:
        """``iter_by_unit`` unparsed, as (line number, line, is the unit's latest)."""
        return self.walk_lines(self.plan_lines())

    def plan_lines(self) -> list[tuple[int, int, bool]] | None:
        """Where the lines of ``iter_lines_by_unit`` are, in its order: (offset, line number, is
        the unit's latest) per whole line, or None when the file is already in unit order with
        one line per unit (a file rescore wrote: read straight through). One pass over the
        file; a process forked after it walks the same lines (``walk_lines``) without it."""
        if not self.samples_path.exists():
            return []
        lines: dict[str, list[tuple[int, int]]] = {}
        in_order = True
        prev = None
        with self.samples_path.open("rb") as fh:
            pos = 0
            for n, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    break
                uid = _unit_id_of(raw[:4096].decode("utf-8", "replace"))
                uid = uid or _unit_id_of(raw.decode("utf-8", errors="replace"))
                if in_order and prev is not None and not prev < uid:
                    in_order = False
                prev = uid
                lines.setdefault(uid, []).append((pos, n))
                pos += len(raw)
        if in_order:
            return None
        plan = []
        for uid in sorted(lines):
            at = lines[uid]
            plan.extend((off, n, k == len(at) - 1) for k, (off, n) in enumerate(at))
        return plan

    def walk_lines(self, plan: list[tuple[int, int, bool]] | None) -> Iterator[tuple[int, bytes, bool]]:
        """The lines a ``plan_lines`` plan names, as (line number, line, is the unit's latest)."""
        if plan == []:
            return
        with self.samples_path.open("rb") as fh:
            if plan is None:
                for n, line in enumerate(fh, start=1):
                    if not line.endswith(b"\n"):
                        return
                    yield n, line, True
                return
            for off, n, latest in plan:
                fh.seek(off)
                yield n, fh.readline(), latest

    def parse_line(self, line: bytes, n: int) -> Sample:
        """One line of samples.jsonl as a sample, or ``RunError`` naming the file and line."""
        try:
            return Sample.model_validate_json(line)
        except ValueError as e:  # invalid UTF-8 and JSON included
            raise RunError(f"{self.samples_path}:{n}: unreadable sample ({_first_error(e)})") from None

    def iter_sample_dicts(self, *, all_lines: bool = False) -> Iterator[dict[str, Any]]:
        if not self.samples_path.exists():
            return
        skip = set() if all_lines else self._superseded()
        with self.samples_path.open("r", encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if line.endswith("\n") and n not in skip:
                    yield json.loads(line)

    def repair_tail(self) -> int:
        """Cut a torn last line left by a crash so appends start clean; returns bytes removed."""
        try:
            return cut_torn_tail(self.samples_path)
        except OSError as e:
            raise storage_error(self.samples_path, e) from None

    def append_sample(self, sample: Sample) -> None:
        """Append one whole line, or raise ``StorageError`` leaving the file as it was."""
        if self._samples is None:
            self._samples = LineAppender(self.samples_path)
        self._samples.append(sample.model_dump_json() + "\n")

    def close(self) -> None:
        if self._samples is not None:
            self._samples.close()
            self._samples = None

    # -- metrics
    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """metrics.json (the results), then execution.json (latencies, run id and the samples
        fingerprint: ``runs/execution.py``). The fingerprint goes last: a crash between the two
        leaves metrics that read as stale, so they are recomputed, never trusted."""
        results, facts = execution.split(metrics)
        _atomic_write(self.metrics_path, _dumps(results))
        _atomic_write(self.execution_path, _dumps(facts))

    def samples_size(self) -> int:
        try:
            return self.samples_path.stat().st_size
        except FileNotFoundError:
            return 0

    def metrics_current(self) -> bool:
        """metrics.json exists and was computed from the samples as they are now."""
        try:
            metrics = json.loads(self.metrics_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(metrics, dict) or not isinstance(metrics.get("benchmarks", {}), dict):
            return False
        metrics = self._with_execution(metrics)
        if "samples_bytes" in metrics:
            return metrics["samples_bytes"] == self.samples_size()
        # metrics written before the fingerprint existed: newer than the samples is current
        try:
            return self.metrics_path.stat().st_mtime >= self.samples_path.stat().st_mtime
        except FileNotFoundError:
            return True

    def read_metrics(self) -> dict[str, Any]:
        if not self.metrics_path.exists():
            raise RunError(f"{self.path}: no {METRICS} yet (run `medevals rescore {self.path}`)")
        try:
            metrics = json.loads(self.metrics_path.read_bytes())
        except ValueError as e:  # invalid JSON or UTF-8
            raise RunError(
                f"{self.metrics_path}: unreadable metrics ({_first_error(e)}); "
                f"`medevals rescore {self.path}` rewrites it from the samples"
            ) from None
        if not isinstance(metrics, dict) or not isinstance(metrics.get("benchmarks", {}), dict):
            raise RunError(
                f"{self.metrics_path}: not a metrics object; `medevals rescore {self.path}` rewrites it"
            )
        return self._with_execution(metrics)

    def _with_execution(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """metrics.json merged with execution.json (folders written before it have none)."""
        try:
            facts = json.loads(self.execution_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return metrics
        return execution.merge(metrics, facts) if isinstance(facts, dict) else metrics


def _first_error(e: ValueError) -> str:
    """The first problem of a parse error as one short phrase (a pydantic error names its field)."""
    errors = getattr(e, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            loc = ".".join(str(x) for x in first.get("loc", ()))
            return f"field '{loc}': {first['msg']}" if loc else str(first["msg"])
        except (IndexError, KeyError, TypeError):
            pass
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(_finite(obj), indent=2, default=str, allow_nan=False)


def _finite(o: Any) -> Any:
    """NaN/inf -> null, so metrics.json is strict JSON that browsers, jq and DuckDB read."""
    if isinstance(o, float):
        return o if o == o and o not in (float("inf"), float("-inf")) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    return o


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "null")
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


@contextlib.contextmanager
def runs_dir_lock(runs_dir: Path) -> Iterator[None]:
    """Serialise "find a run folder to resume, or create one" across processes (milliseconds),
    so two identical commands started together cannot both miss each other's folder."""
    if runs_dir.exists() and not runs_dir.is_dir():
        raise RunError(f"{runs_dir}: is a file, not a folder (pass --runs-dir FOLDER)")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise storage_error(runs_dir, e, "cannot create the runs folder") from None
    if fcntl is None:
        yield
        return
    fd = os.open(runs_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
