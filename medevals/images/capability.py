"""Refuse, before the first request, a run that would send images to a model that cannot see them.

A text-only model handed a radiograph question would answer from the text alone and its score
would look like a (poor) vision result; the run must stop and say so instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from medevals.errors import ConfigError
from medevals.extras import install_hint

if TYPE_CHECKING:
    from medevals.models.base import ModelBackend

HINT = (
    "serve a vision-language model (e.g. `vllm serve MODEL`) and pass -m openai:NAME --base-url "
    "http://HOST:PORT/v1"
)


def _has_degradation(variant: str) -> bool:
    return any(part.strip().startswith("degrade:") for part in variant.split("+"))


INSTALL_HINT = install_hint("images")


def check_image_support(benchmarks: Sequence[Any], backend: ModelBackend | None) -> None:
    """``benchmarks``: the run's prepared benchmarks (``.bench``, ``.record``); ``backend``: the candidate's."""
    if any(pb.bench.images for pb in benchmarks):
        try:
            import numpy  # noqa: F401
            import PIL  # noqa: F401
        except ImportError as e:
            raise ConfigError(f"image benchmarks need Pillow and numpy: {INSTALL_HINT} ({e})") from None
    for pb in benchmarks:
        name = pb.bench.name
        if not pb.bench.images:
            degraded = [v for v in pb.record.variants if _has_degradation(v)]
            if degraded:
                raise ConfigError(
                    f"benchmark '{name}' has no images, so strategy '{degraded[0]}' has nothing to degrade"
                )
            continue
        if backend is not None and backend.accepts_images is False:
            raise ConfigError(
                f"benchmark '{name}' shows images, but model '{backend.record.spec}' takes text only; {HINT}"
            )
