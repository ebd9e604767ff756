"""Re-score a finished (or interrupted) run from its stored responses: no model, no data needed.

Each sample carries its item (with the target) and its raw responses, so a changed answer
extractor or scorer is applied by re-running ``Protocol.score`` over samples.jsonl.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
from collections.abc import Iterator
from typing import Any

from medevals.errors import RunError
from medevals.evaluate import compute_metrics
from medevals.protocols.base import Protocol
from medevals.protocols.registry import protocol_from_record
from medevals.runs.folder import RunFolder
from medevals.schema import Sample, Score


def protocols_for(folder: RunFolder) -> dict[str, Protocol]:
    manifest = folder.read_manifest()
    return {b.name: protocol_from_record(b, str(folder.manifest_path)) for b in manifest.benchmarks}


def current_metrics(folder: RunFolder) -> dict[str, Any]:
    """metrics.json when it was computed from the samples as they are, else metrics computed from
    the samples in memory. Writes nothing, so ``report`` works on a live run (what is finished so
    far) and on a read-only folder."""
    if folder.metrics_current():
        return folder.read_metrics()
    return compute_metrics(folder, folder.read_manifest())


def rescore(folder: RunFolder) -> dict[str, Any]:
    """Rewrite every sample's score and metrics.json. Takes the folder's lock: rewriting
    samples.jsonl under a live run would drop what it appends (``report`` only reads, and works
    on a live folder)."""
    folder.lock(hint="rescore it after that run ends")
    try:
        return _rescore(folder)
    finally:
        folder.unlock()


#: samples.jsonl from this size up is re-scored by two processes (when two cores are free):
#: below it, starting a worker and walking the file twice cost more than they save.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
#: Lines a worker scores and reports back at once.
CHUNK = 1000


def _parallel_wanted(folder: RunFolder) -> bool:
    """Two processes only for a large file, on a machine with a second core free for this
    process (the last minute's load average leaves one idle: at load 1.2-2.3 on 2 cores it was
    10.6-10.9 s against 8.8-9.1 s for one process on 100k samples; on a busy machine the second process
    gets no core of its own, and the duplicated parse makes the pass slower than one process),
    where fork is available and no thread runs here (forking a threaded process is unsafe)."""
    import threading

    try:
        size = folder.samples_path.stat().st_size
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        load = os.getloadavg()[0]
    except OSError:
        return False
    return (
        size >= PARALLEL_MIN_BYTES
        and cores >= 2
        and load < cores - 1
        and "fork" in mp.get_all_start_methods()
        and threading.active_count() == 1
    )


def _protocol(folder: RunFolder, protocols: dict[str, Protocol], s: Sample) -> Protocol:
    proto = protocols.get(s.benchmark)
    if proto is None:
        raise RunError(f"{folder.samples_path}: sample {s.unit_id} names unknown benchmark {s.benchmark}")
    return proto


def _new_score(folder: RunFolder, protocols: dict[str, Protocol], s: Sample) -> Score | None:
    """The sample's new score when it differs from the stored one, else None (an errored unit
    is not scored)."""
    proto = _protocol(folder, protocols, s)
    if s.error is not None:
        return None
    new = proto.score(s.item, s.output, s.calls, s.variant)
    if s.score is None or new != s.score:  # pydantic: same type, same field values
        return new
    return None


Scored = Iterator[tuple[bytes, bool, Sample, Score | None]]


def _serial(folder: RunFolder, protocols: dict[str, Protocol]) -> Scored:
    for n, line, latest in folder.iter_lines_by_unit():
        s = folder.parse_line(line, n)
        yield line, latest, s, _new_score(folder, protocols, s)


def _transportable(e: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return RuntimeError(f"{type(e).__name__}: {e}")


def _worker(
    folder: RunFolder,
    protocols: dict[str, Protocol],
    plan: list[tuple[int, int, bool]] | None,
    conn: Any,
) -> None:
    """In the forked child: walk the same lines in the same order as the parent, parse and score
    each, and send one list per CHUNK lines (per line: its new score, None, or the exception it
    raised, after which the worker stops)."""
    out: list[Any] = []
    try:
        for n, line, _ in folder.walk_lines(plan):
            try:
                out.append(_new_score(folder, protocols, folder.parse_line(line, n)))
            except BaseException as e:
                out.append(_transportable(e))
                break
            if len(out) == CHUNK:
                conn.send_bytes(pickle.dumps(out, pickle.HIGHEST_PROTOCOL))
                out = []
    except BaseException as e:  # reading the file failed: the parent meets it on its own walk
        out.append(_transportable(e))
    if out:
        conn.send_bytes(pickle.dumps(out, pickle.HIGHEST_PROTOCOL))
    conn.close()


def _receive(conn: Any, proc: Any, folder: RunFolder) -> list[Any]:
    while not conn.poll(0.5):
        if not proc.is_alive() and not conn.poll(0):
            raise RunError(f"{folder.samples_path}: the scoring worker stopped (exit code {proc.exitcode})")
    try:
        return pickle.loads(conn.recv_bytes())
    except EOFError:
        raise RunError(f"{folder.samples_path}: the scoring worker stopped early") from None


def _parallel(folder: RunFolder, protocols: dict[str, Protocol]) -> Scored:
    """``_serial``'s stream with the scoring done by a forked worker: both processes walk the
    same lines in the same order (the file cannot change: rescore holds the folder's lock), the
    worker parses and scores, the parent parses (it needs the samples for the metrics), takes
    the worker's verdict per line and writes. Scores are pure functions of the stored sample,
    so the result is the serial one, byte for byte (pinned by a test)."""
    plan = folder.plan_lines()  # before the fork: the worker inherits it, the file is scanned once
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(folder, protocols, plan, send), daemon=True)
    proc.start()
    send.close()
    try:
        got: list[Any] = []
        k = 0
        for n, line, latest in folder.walk_lines(plan):
            s = folder.parse_line(line, n)
            _protocol(folder, protocols, s)
            if k == len(got):
                got, k = _receive(recv, proc, folder), 0
            new = got[k]
            k += 1
            if isinstance(new, BaseException):
                raise new
            yield line, latest, s, new
    finally:
        proc.kill()
        proc.join()
        recv.close()


def _rescore(folder: RunFolder, parallel: bool | None = None) -> dict[str, Any]:
    """One pass over samples.jsonl: each line is re-scored and written to the new file, and each
    unit's latest sample goes on to the metrics as it is written (``compute_metrics`` with a
    stream), so the file is parsed once. The new file holds every line, grouped by unit in
    unit-id order (a unit's attempts in their order, its latest last): the order metrics are
    computed in, with the latest-line-wins rule kept. ``parallel``: score in a second process
    (None: when the file is large and a second core is there)."""
    manifest = folder.read_manifest()
    protocols = protocols_for(folder)
    tmp = folder.samples_path.with_suffix(".jsonl.rescore")
    changed = 0
    done = False
    if parallel is None:
        parallel = _parallel_wanted(folder)
    source = (_parallel if parallel else _serial)(folder, protocols)

    def rescored() -> Iterator[Sample]:
        nonlocal changed, done
        with tmp.open("wb") as out:
            for line, latest, s, new in source:  # superseded attempts are kept
                if new is not None:
                    changed += 1
                    s.score = new
                    line = (s.model_dump_json() + "\n").encode("utf-8")
                # an unchanged sample keeps its line byte for byte (no re-serialising)
                out.write(line)
                if latest:
                    yield s
        os.replace(tmp, folder.samples_path)
        done = True

    # No cyclic garbage is made per sample (refcounting frees each), so the collector's passes
    # over 100,000 short-lived samples are pure cost (~5%); it runs again when done.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        metrics = compute_metrics(folder, manifest, samples=rescored())
    finally:
        source.close()  # stops a worker on any failure
        if gc_was_on:
            gc.enable()
        tmp.unlink(missing_ok=True)  # a failure mid-way leaves samples.jsonl as it was
    if not done:  # compute_metrics reads the stream to its end; this guards that contract
        raise RunError(f"{folder.samples_path}: rescore stopped before the last sample")
    metrics["rescored_changed"] = changed
    folder.write_metrics(metrics)
    return metrics
