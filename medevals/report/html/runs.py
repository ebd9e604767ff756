"""What the report reads from one run folder: manifest, metrics (or why there are none)."""

from __future__ import annotations

from typing import Any

from medevals.errors import MedevalsError
from medevals.report.html.cells import status_badge
from medevals.report.html.escape import esc
from medevals.runs.folder import RunFolder
from medevals.schema import RunManifest


class RunView:
    """What the report needs from one folder: manifest, metrics (or why there are none)."""

    def __init__(self, index: int, folder: RunFolder):
        self.index = index
        self.folder = folder
        self.manifest: RunManifest = folder.read_manifest()
        self.metrics: dict[str, Any] | None = None
        self.metrics_error: str | None = None
        try:
            from medevals.runs.rescore import current_metrics  # (stale or missing: from the samples)

            self.metrics = current_metrics(folder)
        except (MedevalsError, OSError, ValueError) as e:
            self.metrics_error = str(e)

    @property
    def anchor(self) -> str:
        return f"run-{self.index}"

    @property
    def benchmarks(self) -> dict[str, Any]:
        return (self.metrics or {}).get("benchmarks") or {}

    def bench(self, name: str) -> dict[str, Any] | None:
        return self.benchmarks.get(name)

    def primary(self, name: str) -> dict[str, Any] | None:
        b = self.bench(name)
        if not b:
            return None
        return (b.get("metrics") or {}).get(b.get("primary"))

    def category(self, name: str) -> str | None:
        b = self.bench(name)
        if b and (b.get("taxonomy") or {}).get("category"):
            return str(b["taxonomy"]["category"])
        for rec in self.manifest.benchmarks:
            if rec.name == name:
                return rec.taxonomy.category
        return None

    def col_header(self) -> str:
        m = self.manifest
        badge = "" if m.status == "complete" else " " + status_badge(m.status)
        return (
            f'<th class="runcol"><a href="#{self.anchor}">{esc(m.model.spec)}</a>{badge}'
            f'<div class="muted small">{esc(m.run_id)}</div></th>'
        )


def benchmark_names(runs: list[RunView]) -> list[str]:
    names: list[str] = []
    for r in runs:
        for n in [*r.benchmarks, *(b.name for b in r.manifest.benchmarks)]:
            if n not in names:
                names.append(n)
    return names
