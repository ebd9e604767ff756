"""``metrics.json`` holds results; ``execution.json`` beside it holds what one execution measured.

``metrics.json`` is a pure function of the samples' responses and scores (and of how each call
was obtained -- fresh, cached or replayed -- since usage and cost count fresh calls only): two
runs that received the same responses write byte-identical files, whether they ran in one
process or on a Ray cluster, against a fast server or a slow one, with any concurrency. So its
sha256 fingerprints a result, and a local and a distributed run can be compared byte for byte.

What legitimately differs between two such runs is kept out of it, in ``execution.json``:

- ``run_id``: the folder name, which carries the time the run was created;
- ``samples_bytes``: the size of samples.jsonl the metrics were computed from (the staleness
  fingerprint ``RunFolder.metrics_current`` checks; samples hold latencies and clock times, so
  the size differs between identical results);
- ``rescored_changed``: what the last ``rescore`` changed;
- per benchmark, ``latency_s`` (p50/p95/mean of fresh calls: a measurement of the server and
  the network, not of the model's answers), each Pareto point's ``latency_s``, and the cells
  of any protocol table column listed in that table's ``timing_columns`` (they are left as
  null in metrics.json).

``compute_metrics`` returns both together; ``RunFolder.write_metrics`` splits them and
``RunFolder.read_metrics`` merges them back, so every reader sees the dict it always saw.
"""

from __future__ import annotations

import copy
from typing import Any

EXECUTION = "execution.json"
#: Top-level keys of the metrics dict that describe the execution, not the results.
TOP_KEYS = ("run_id", "samples_bytes", "rescored_changed")


def split(metrics: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(results for metrics.json, execution facts for execution.json); ``metrics`` is not changed."""
    results = copy.deepcopy(metrics)
    execution: dict[str, Any] = {k: results.pop(k) for k in TOP_KEYS if k in results}
    benches: dict[str, Any] = {}
    for name, b in (results.get("benchmarks") or {}).items():
        if not isinstance(b, dict):
            continue
        facts: dict[str, Any] = {}
        if "latency_s" in b:
            facts["latency_s"] = b.pop("latency_s")
        extra = b.get("extra")
        if isinstance(extra, dict):
            pareto = extra.get("pareto")
            if isinstance(pareto, list) and any(isinstance(p, dict) and "latency_s" in p for p in pareto):
                facts["pareto_latency_s"] = [
                    p.pop("latency_s", None) if isinstance(p, dict) else None for p in pareto
                ]
            columns: dict[str, dict[str, list[Any]]] = {}
            for j, table in enumerate(extra.get("tables") or []):
                cols = table.get("timing_columns") if isinstance(table, dict) else None
                if not cols:
                    continue
                rows = table.get("rows") or []
                columns[str(j)] = {str(c): [_take(row, c) for row in rows] for c in cols}
            if columns:
                facts["table_columns"] = columns
        if facts:
            benches[name] = facts
    if benches:
        execution["benchmarks"] = benches
    return results, execution


def merge(results: dict[str, Any], execution: dict[str, Any]) -> dict[str, Any]:
    """The metrics dict ``compute_metrics`` made, from metrics.json and execution.json (in place)."""
    for k in TOP_KEYS:
        if k in execution:
            results[k] = execution[k]
    for name, facts in (execution.get("benchmarks") or {}).items():
        b = (results.get("benchmarks") or {}).get(name)
        if not isinstance(b, dict) or not isinstance(facts, dict):
            continue
        if "latency_s" in facts:
            b["latency_s"] = facts["latency_s"]
        extra = b.get("extra") if isinstance(b.get("extra"), dict) else {}
        pareto = extra.get("pareto") or []
        for p, lat in zip(pareto, facts.get("pareto_latency_s") or [], strict=False):
            if isinstance(p, dict):
                p["latency_s"] = lat
        tables = extra.get("tables") or []
        for j, cols in (facts.get("table_columns") or {}).items():
            if not (j.isdigit() and int(j) < len(tables)):
                continue
            rows = tables[int(j)].get("rows") or []
            for c, cells in cols.items():
                for row, cell in zip(rows, cells, strict=False):
                    if isinstance(row, list) and int(c) < len(row):
                        row[int(c)] = cell
    return results


def _take(row: Any, col: int) -> Any:
    if isinstance(row, list) and col < len(row):
        value, row[col] = row[col], None
        return value
    return None
