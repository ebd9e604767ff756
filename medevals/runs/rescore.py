"""Re-score a finished (or interrupted) run from its stored responses: no model, no data needed.

Each sample carries its item (with the target) and its raw responses, so a changed answer
extractor or scorer is applied by re-running ``Protocol.score`` over samples.jsonl.
"""

from __future__ import annotations

import os
from typing import Any

from medevals.errors import RunError
from medevals.evaluate import compute_metrics
from medevals.protocols.base import Protocol
from medevals.protocols.registry import protocol_from_record
from medevals.runs.folder import RunFolder


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
    manifest = folder.read_manifest()
    protocols = protocols_for(folder)
    tmp = folder.samples_path.with_suffix(".jsonl.rescore")
    changed = 0
    with tmp.open("w", encoding="utf-8") as out:
        for s in folder.iter_samples(all_lines=True):  # superseded attempts are kept
            proto = protocols.get(s.benchmark)
            if proto is None:
                raise RunError(
                    f"{folder.samples_path}: sample {s.unit_id} names unknown benchmark {s.benchmark}"
                )
            if s.error is None:
                new = proto.score(s.item, s.output, s.calls, s.variant)
                if s.score is None or new.model_dump() != s.score.model_dump():
                    changed += 1
                s.score = new
            out.write(s.model_dump_json() + "\n")
    os.replace(tmp, folder.samples_path)
    metrics = compute_metrics(folder, manifest)
    metrics["rescored_changed"] = changed
    folder.write_metrics(metrics)
    return metrics
