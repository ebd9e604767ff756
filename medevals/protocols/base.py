"""The protocol contract: ``solve`` puts an item to the model(s); ``score`` reads the transcript.

``solve`` is async and may make any number of calls, always through ``SolveContext.generate``
(which goes through the engine's cache, journal, retries and accounting). ``score`` is pure:
it sees the item, the protocol's output dict and the stored call records, never a model, so
``medevals rescore`` can re-run it on a finished run folder.
"""

from __future__ import annotations

import functools
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from medevals.errors import ConfigError
from medevals.schema import CallRecord, Item, ModelRequest, Sample, Score
from medevals.scoring.stats import MetricSpec

if TYPE_CHECKING:
    from medevals.benchmarks.base import Benchmark
    from medevals.engine.client import ModelClient
    from medevals.images.store import ImageStore


def comma_list(v: Any) -> Any:
    """``"a, b"`` -> ``["a", "b"]`` (and ``5`` -> ``[5]``): list options arrive as one string from
    ``--strategy a,b`` or ``--set types=a,b``. Use as ``field_validator(..., mode="before")(comma_list)``."""
    if isinstance(v, str):
        return [s.strip() for s in v.split(",") if s.strip()]
    if isinstance(v, int) and not isinstance(v, bool):
        return [v]
    return v


class ProtocolOptions(BaseModel):
    """Base for each protocol's options; unknown options are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class SolveContext:
    """What a protocol may use while solving one unit."""

    def __init__(
        self,
        *,
        unit_id: str,
        item: Item,
        repeat: int,
        variant: str,
        seed: int,
        clients: dict[str, ModelClient],
        fewshot: list[Item] | None = None,
        images: ImageStore | None = None,
    ):
        self.unit_id = unit_id
        self.item = item
        self.repeat = repeat
        self.variant = variant
        self.seed = seed
        self.clients = clients
        self.fewshot_pool = fewshot or []
        #: The run folder's image store (``protocols/image_parts.prepare_item`` writes to it).
        self.images = images
        self.calls: list[CallRecord] = []

    @functools.cached_property
    def rng(self) -> random.Random:
        """This unit's own seeded generator (made on first use: most units never draw from it)."""
        return random.Random(f"{self.seed}:{self.unit_id}")

    def is_base_model(self, role: str = "candidate") -> bool:
        return self.clients[role].backend.base_model

    def has_role(self, role: str) -> bool:
        return role in self.clients

    async def generate(
        self,
        request: ModelRequest,
        *,
        role: str = "candidate",
        sample_index: int | None = None,
        model_role: str | None = None,
    ) -> CallRecord:
        """Make one call as ``role``; the record is kept for the sample. Raises ``CallFailed``.

        ``model_role`` names the run's model that answers when ``role`` is only a label (an agent
        of a system, ``system:expert:cardiology``, answered by the ``candidate``): the record
        carries the label, so tokens, cost and latency are accounted per agent role.
        """
        from medevals.engine.client import CallFailed

        via = model_role or role
        client = self.clients.get(via)
        if client is None:
            raise ConfigError(f"protocol needs a '{via}' model but none was given")
        idx = self.repeat if sample_index is None else sample_index
        label = role if role != via else None
        try:
            rec = await client.call(request, unit_id=self.unit_id, sample_index=idx, label=label)
        except CallFailed as e:
            self.calls.append(e.record)
            raise
        self.calls.append(rec)
        return rec


class Protocol(ABC):
    name: ClassVar[str]
    #: Name of the per-sample value that headlines the benchmark (shown with its CI).
    primary_metric: ClassVar[str] = "accuracy"
    Options: ClassVar[type[ProtocolOptions]] = ProtocolOptions
    #: Extra model roles this protocol can use (e.g. "judge", "patient").
    roles: ClassVar[tuple[str, ...]] = ()
    #: Role -> the role it defaults to when not given (AgentClinic's ``measurement`` -> ``patient``):
    #: the run then uses that model for both, recorded under each role's own name.
    role_fallbacks: ClassVar[dict[str, str]] = {}
    #: False for protocols that never call the model under test (retrieval): ``--model`` may be omitted.
    needs_candidate: ClassVar[bool] = True
    #: Optional extras (``medevals/extras.py``) the protocol needs: checked before any data is read.
    extras: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        """How the per-sample value ``name`` (the primary metric or a ``Score.values`` key) is summarised.

        ``PROPORTION`` (0/1 outcomes, Wilson CI) or ``CONTINUOUS`` (a score, bootstrap CI), with
        an optional clip of the mean. None leaves it to the values (all 0/1: Wilson), which is
        right only for outcomes that cannot be anything else: a protocol whose value is a score
        must declare it, or a score that is 0 or 1 on every item gets a proportion's interval.
        """
        return None

    def __init__(self, options: ProtocolOptions, benchmark: Benchmark | None = None):
        self.options = options
        self.benchmark = benchmark

    @classmethod
    def parse_options(cls, raw: dict[str, Any], where: str) -> ProtocolOptions:
        try:
            return cls.Options.model_validate(raw)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"]) or "options"
            known = ", ".join(cls.Options.model_fields)
            raise ConfigError(
                f"{where}: option '{loc}': {err['msg']} (protocol '{cls.name}' takes: {known})"
            ) from None

    def ignored_options(self, given: set[str]) -> list[str]:
        """Warnings for options the user set (``given``) that change nothing in this configuration
        (``--shots`` with no few-shot strategy): one line each, printed and kept in the manifest."""
        return []

    def default_roles(self) -> dict[str, str]:
        """Model roles this protocol needs when the user names none, e.g. ``{"embedder": "builtin:minilm"}``."""
        return {}

    async def setup(self, items: list[Item], clients: dict[str, ModelClient]) -> None:
        """Run-level work before the first unit (e.g. embedding a retrieval corpus).

        Calls made here go through ``clients[role].call(...)`` (cache, retries, accounting) but
        belong to no sample; keep their results reproducible (cache them on disk by content hash).
        """
        return None

    def variants(self) -> list[str]:
        """Named variants (strategies) each item is run under; one unit per item x variant x repeat."""
        return ["default"]

    def templates(self) -> dict[str, str]:
        """The prompt templates, recorded verbatim in the manifest."""
        return {}

    def uses_fewshot(self) -> bool:
        return False

    def single_turn_obstacle(self, variant: str) -> str | None:
        """Why a unit of ``variant`` may not make exactly one call as the model under test; None if it does.

        ``replay:`` answers a unit from one recorded output, so it runs only variants where this
        is None. Conservative by default: a protocol states its single turn explicitly.
        """
        return f"protocol '{self.name}' does not declare a single model turn per item"

    def needs_logprobs(self, variant: str) -> bool:
        """Whether the model turn of ``variant`` is read from token logprobs rather than text."""
        return False

    @abstractmethod
    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        """Run the item; return a JSON-serialisable output dict (calls are kept by the context)."""

    @abstractmethod
    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        """Score from stored data only (no model): used at run time and by ``rescore``."""

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        """Protocol-specific aggregates beyond the generic ones (means with CIs of ``Score.values``).

        Called by ``compute_metrics`` with this benchmark's samples (streamed) only when a
        protocol overrides it. The result is stored under ``metrics.json -> benchmarks -> NAME
        -> extra``. Two keys are rendered by the HTML report for every protocol:

        - ``tables``: ``[{"title": str, "columns": [str], "rows": [[cell, ...]]}]``; a cell is a
          string/number or a metric dict ``{"value", "ci_low", "ci_high", "n"}`` shown with a CI bar;
        - ``plots``: ``[{"title", "kind": "line"|"scatter"|"bar", "x_label", "y_label",
          "series": [{"name": str, "points": [[x, y], ...]}]}]``. Optional: ``x_range``/``y_range``,
          ``x_log``, ``reference: "diagonal"`` (reliability diagrams), ``frontier: true`` (Pareto
          staircase, lower x and higher y better); per series ``labels`` and ``intervals`` ([lo, hi]);
        - a table may carry a ``caption`` (caveats, definitions), shown under it, and
          ``timing_columns``: indexes of columns that measure the execution (latency), not the
          answers; their cells live in execution.json so metrics.json stays a pure function of the
          responses (``runs/execution.py``);
        - ``pareto``: ``[{"label", "accuracy", "ci_low", "ci_high", "n", "tokens", "cost_usd",
          "latency_s", "calls"}]`` per strategy: the report merges these across all runs it shows
          into one cost-accuracy plot with the frontier.

        Anything else under ``extra`` is kept in metrics.json for tools.
        """
        return {}
