"""Re-score a finished (or interrupted) run from its stored responses: no model, no data needed.

Each sample carries its item (with the target) and its raw responses, so a changed answer
extractor or scorer is applied by re-running ``Protocol.score`` over samples.jsonl.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

from medevals.errors import RunError
from medevals.evaluate import compute_metrics
from medevals.protocols.base import Protocol
from medevals.protocols.registry import protocol_from_record
from medevals.runs.folder import RunFolder
from medevals.schema import Sample


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


def _rescore(folder: RunFolder) -> dict[str, Any]:
    """One pass over samples.jsonl: each line is re-scored and written to the new file, and each
    unit's latest sample goes on to the metrics as it is written (``compute_metrics`` with a
    stream), so the file is parsed once. The new file holds every line, grouped by unit in
    unit-id order (a unit's attempts in their order, its latest last): the order metrics are
    computed in, with the latest-line-wins rule kept."""
    manifest = folder.read_manifest()
    protocols = protocols_for(folder)
    tmp = folder.samples_path.with_suffix(".jsonl.rescore")
    changed = 0
    done = False

    def rescored() -> Iterator[Sample]:
        nonlocal changed, done
        with tmp.open("wb") as out:
            for s, latest, line in folder.iter_by_unit():  # superseded attempts are kept
                proto = protocols.get(s.benchmark)
                if proto is None:
                    raise RunError(
                        f"{folder.samples_path}: sample {s.unit_id} names unknown benchmark {s.benchmark}"
                    )
                if s.error is None:
                    new = proto.score(s.item, s.output, s.calls, s.variant)
                    if s.score is None or new != s.score:  # pydantic: same type, same field values
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
        if gc_was_on:
            gc.enable()
        tmp.unlink(missing_ok=True)  # a failure mid-way leaves samples.jsonl as it was
    if not done:  # compute_metrics reads the stream to its end; this guards that contract
        raise RunError(f"{folder.samples_path}: rescore stopped before the last sample")
    metrics["rescored_changed"] = changed
    folder.write_metrics(metrics)
    return metrics
