"""Suites: a named list of benchmarks with per-benchmark settings (and optionally models), in TOML.

A suite runs as one run folder per entry (entries may set different protocol options), and
its results are compared and indexed like any other runs. Bundled suites live beside this
file; any TOML path works too::

    name = "mcq-core"
    description = "Exam-style multiple choice"
    [defaults]          # optional: limit, seed, repeats, split
    limit = 200
    [[benchmark]]
    name = "medqa"      # a benchmark name, NAME:SPLIT, or a spec.yaml path (relative to the suite)
    options = { strategy = "zero-shot,cot" }
    system = "medagents,debate,vote5"   # optional: agent systems beside the strategies (or .yaml paths)
    [[model]]           # optional: the models it runs (``suite run -m SPEC`` runs one model instead)
    spec = "openai:llama3"
    base_url = "http://gpu1:8000/v1,http://gpu2:8000/v1"   # replicas allowed
    api_key_env = "MY_KEY"      # optional, as --api-key-env
    concurrency = 32            # optional, as -c

Every model runs every benchmark: one run folder per (model x benchmark).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medevals.errors import ConfigError
from medevals.tomlfile import read_toml, where

BUNDLED = Path(__file__).parent


class SuiteDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int | None = Field(None, ge=1)
    seed: int = 0
    repeats: int = Field(1, ge=1)
    split: str | None = None


class SuiteEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    limit: int | None = Field(None, ge=1)
    options: dict[str, Any] = Field(default_factory=dict)
    #: Agent systems run as variants of this entry (as ``--system``): names or .yaml paths.
    system: str | list[str] | None = None

    def run_options(self) -> dict[str, Any]:
        """The entry's protocol options, with its ``system`` as the ``system`` option."""
        return {**self.options, **({"system": self.system} if self.system else {})}


class SuiteModel(BaseModel):
    """One model a suite runs every benchmark on (``[[model]]``)."""

    model_config = ConfigDict(extra="forbid")
    spec: str = Field(min_length=1)
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = Field(None, ge=1)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    defaults: SuiteDefaults = Field(default_factory=SuiteDefaults)
    benchmark: list[SuiteEntry]
    model: list[SuiteModel] = Field(default_factory=list)
    path: Path | None = None


def bundled_suites() -> list[Path]:
    return sorted(BUNDLED.glob("*.toml"))


def load_suite(ref: str) -> Suite:
    """A bundled suite by name or a TOML file by path."""
    path = Path(ref)
    if not path.suffix:
        path = BUNDLED / f"{ref}.toml"
        if not path.exists():
            names = ", ".join(p.stem for p in bundled_suites())
            raise ConfigError(f"unknown suite '{ref}' (bundled: {names}; or pass a .toml path)")
    data, text = read_toml(path, "suite file")
    try:
        suite = Suite.model_validate({**data, "path": path})
    except ValidationError as e:
        err = e.errors()[0]
        loc = [x for x in err["loc"] if isinstance(x, int | str)]
        raise ConfigError(
            f"{where(path, text, loc)}: field '{'.'.join(map(str, loc))}': {err['msg']}"
        ) from None
    if not suite.benchmark:
        raise ConfigError(f"{path}: a suite needs at least one [[benchmark]]")
    for entry in suite.benchmark:  # spec and system paths are relative to the suite file
        if entry.name.endswith((".yaml", ".yml")) and not Path(entry.name).is_absolute():
            entry.name = str((path.parent / entry.name).resolve())
        if entry.system:
            refs = entry.system.split(",") if isinstance(entry.system, str) else entry.system
            entry.system = [
                str((path.parent / r.strip()).resolve())
                if r.strip().endswith((".yaml", ".yml")) and not Path(r.strip()).is_absolute()
                else r.strip()
                for r in refs
                if r.strip()
            ]
    return suite


def entry_where(suite: Suite, index: int) -> str:
    """``path:line`` of the suite's ``index``-th ``[[benchmark]]`` (for errors found when it runs)."""
    if suite.path is None or not suite.path.is_file():
        return f"suite '{suite.name}'"
    return where(suite.path, suite.path.read_text(encoding="utf-8"), ["benchmark", index])
