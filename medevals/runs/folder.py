"""The run folder: ``manifest.json``, ``samples.jsonl`` (streamed), ``metrics.json``, ``report.html``.

Samples are appended and flushed one line at a time, so a crash loses at most the line being
written (a torn last line is skipped on read and overwritten on resume) and memory stays flat
in the number of items. The manifest is rewritten atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from medevals.errors import RunError
from medevals.schema import RunManifest, Sample

MANIFEST = "manifest.json"
SAMPLES = "samples.jsonl"
METRICS = "metrics.json"
JOURNAL = "journal.jsonl"
REPORT = "report.html"


def slug(text: str, max_len: int = 40) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return s[:max_len] or "x"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class RunFolder:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._samples_fh: IO[str] | None = None

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
    def journal_path(self) -> Path:
        return self.path / JOURNAL

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    @classmethod
    def open(cls, path: Path | str) -> RunFolder:
        folder = cls(path)
        if not folder.manifest_path.exists():
            raise RunError(f"{folder.path}: not a run folder (no {MANIFEST})")
        return folder

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=False)

    # -- manifest
    def read_manifest(self) -> RunManifest:
        try:
            return RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunError(f"{self.path}: not a run folder (no {MANIFEST})") from None
        except ValueError as e:
            raise RunError(f"{self.manifest_path}: unreadable manifest ({str(e).splitlines()[0]})") from None

    def write_manifest(self, manifest: RunManifest) -> None:
        _atomic_write(self.manifest_path, manifest.model_dump_json(indent=2))

    # -- samples
    def finished_units(self) -> set[str]:
        return {s.unit_id for s in self.iter_samples()}

    def iter_samples(self) -> Iterator[Sample]:
        """Stream samples; a torn final line (crash mid-write) is skipped."""
        if not self.samples_path.exists():
            return
        with self.samples_path.open("r", encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.endswith("\n"):
                    return
                try:
                    yield Sample.model_validate_json(line)
                except ValueError as e:
                    raise RunError(
                        f"{self.samples_path}:{n}: unreadable sample ({str(e).splitlines()[0]})"
                    ) from None

    def iter_sample_dicts(self) -> Iterator[dict[str, Any]]:
        if not self.samples_path.exists():
            return
        with self.samples_path.open("r", encoding="utf-8") as fh:
            for line in fh:
                if line.endswith("\n"):
                    yield json.loads(line)

    def repair_tail(self) -> int:
        """Cut a torn last line left by a crash so appends start clean; returns bytes removed."""
        p = self.samples_path
        if not p.exists():
            return 0
        data = p.read_bytes()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        with p.open("r+b") as fh:
            fh.truncate(keep)
        return len(data) - keep

    def append_sample(self, sample: Sample) -> None:
        if self._samples_fh is None:
            self._samples_fh = self.samples_path.open("a", encoding="utf-8")
        self._samples_fh.write(sample.model_dump_json() + "\n")
        self._samples_fh.flush()

    def close(self) -> None:
        if self._samples_fh is not None:
            self._samples_fh.close()
            self._samples_fh = None

    # -- metrics
    def write_metrics(self, metrics: dict[str, Any]) -> None:
        _atomic_write(self.metrics_path, json.dumps(_finite(metrics), indent=2, default=str, allow_nan=False))

    def read_metrics(self) -> dict[str, Any]:
        if not self.metrics_path.exists():
            raise RunError(f"{self.path}: no {METRICS} yet (run `medevals rescore {self.path}`)")
        return json.loads(self.metrics_path.read_text(encoding="utf-8"))


def _finite(o: Any) -> Any:
    """NaN/inf -> null, so metrics.json is strict JSON that browsers, jq and DuckDB read."""
    if isinstance(o, float):
        return o if o == o and o not in (float("inf"), float("-inf")) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    return o
