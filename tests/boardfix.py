"""Run folders with given results, written through the real writers (RunManifest, RunFolder):
what the results index reads (manifest.json, metrics.json, execution.json), no samples.

Leaderboard tests and ``perf/leaderboard_scale.py`` build boards of any size from these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medevals.runs.folder import RunFolder
from medevals.schema import BenchmarkRecord, ModelRecord, RunManifest, Taxonomy


def bench_metrics(
    value: float,
    *,
    category: str,
    cost: float | None = None,
    n: int = 100,
    scale: tuple[float, float] | None = None,
    errors: int = 0,
) -> dict[str, Any]:
    """One benchmark's entry in metrics.json, as ``compute_metrics`` shapes it."""
    half = 0.1 if scale is None else 0.3
    metric: dict[str, Any] = {
        "value": value,
        "ci_low": value - half,
        "ci_high": value + half,
        "n": n,
        "ci_method": "wilson" if scale is None else "bootstrap",
    }
    if scale is not None:
        metric["scale"] = list(scale)
    return {
        "primary": "accuracy" if scale is None else "rating",
        "n": n + errors,
        "n_scored": n,
        "n_unscored": 0,
        "n_errors": errors,
        "n_unparseable": 0,
        "n_not_applicable": 0,
        "metrics": {"accuracy" if scale is None else "rating": metric},
        "usage": {"calls": n, "prompt_tokens": 100 * n, "completion_tokens": 2 * n, "cost_usd": cost},
        "latency_s": {"n": n, "p50": 0.2, "p95": 0.4, "mean": 0.25},
        "expected": n + errors,
        "taxonomy": {"category": category, "subcategory": ""},
    }


def make_run(
    root: Path,
    name: str,
    model: str,
    results: dict[str, dict[str, Any]],
    *,
    status: str = "complete",
    created_at: str = "2026-01-01T00:00:00+00:00",
    metrics: bool = True,
) -> Path:
    """A run folder ``root/name`` of ``model`` with ``results`` (benchmark -> ``bench_metrics``)."""
    folder = RunFolder(root / name)
    folder.path.mkdir(parents=True)
    backend, _, model_name = model.partition(":")
    manifest = RunManifest(
        run_id=name,
        medevals_version="0.1.0",
        created_at=created_at,
        status=status,  # type: ignore[arg-type]
        model=ModelRecord(spec=model, backend=backend, name=model_name or model),
        benchmarks=[
            BenchmarkRecord(
                name=b,
                protocol="mcq",
                task_type="multiple choice (4)",
                split="test",
                n_items=r["n"],
                data_source="local:test",
                data_hash="sha256:0",
                taxonomy=Taxonomy(category=r["taxonomy"]["category"]),
                license="test",
                source="test",
            )
            for b, r in results.items()
        ],
    )
    folder.write_manifest(manifest)
    if metrics:
        folder.write_metrics({"run_id": name, "model": model, "samples_bytes": 0, "benchmarks": results})
    return folder.path
