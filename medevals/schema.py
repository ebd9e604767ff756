"""The nouns every part of medevals shares: items, model calls, samples, scores, manifests.

Everything here is plain data (pydantic) so that a unit of work, a model call and a scored
sample can be written to a run folder, read back, shipped to another process (Ray) or
re-scored later without the model. Messages are OpenAI-style dicts from day one: a message's
``content`` is either a string or a list of parts (``{"type": "text", ...}``,
``{"type": "image_url", "image_url": {"url": "data:..."}}``), so multimodal benchmarks need no
new model API.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

Message = dict[str, Any]
"""An OpenAI-style chat message: ``{"role": ..., "content": str | list[part]}``."""

CallKind = Literal["chat", "completion", "embedding"]


def text_message(role: str, text: str) -> Message:
    return {"role": role, "content": text}


def image_part(url: str, detail: str | None = None) -> dict[str, Any]:
    """A content part holding an image (``data:`` URI, http URL or local path)."""
    part: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if detail:
        part["image_url"]["detail"] = detail
    return part


class Taxonomy(BaseModel):
    """Where a benchmark sits in a MedHELM-style clinical taxonomy, for aggregation in reports."""

    category: str
    subcategory: str = ""


class ItemImage(BaseModel):
    """One image of an item: a local file (``path``) or an ``http(s)`` URL, with an optional label.

    Items never carry image bytes: a loader that reads images as bytes (a TSV of base64, a hub
    dataset) writes them once to a content-addressed file (``medevals.images.source.from_bytes``)
    and refers to it by path, so the item store and every sample line stay small. The label is
    shown to the model before the image ("day 3, PA view"); it must not leak the answer. ``ref``
    is set at solve time only: the image as sent, ``images/<sha256>.<ext>`` in the run folder.
    """

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    url: str | None = None
    label: str | None = None
    ref: str | None = Field(None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _one_source(self) -> ItemImage:
        if (self.path is None) == (self.url is None):
            raise ValueError("an image needs exactly one of 'path' or 'url'")
        return self


class Item(BaseModel):
    """One benchmark item, already mapped from its source row.

    ``input`` is the question text (or a whole conversation for chat-style tasks); ``choices``
    maps option letters to option text for multiple choice; ``target`` is whatever the
    protocol's scorer compares against (a letter, a number, a rubric...). ``subset`` drives
    per-subset breakdowns; ``metadata`` carries anything else a protocol needs. Fields that
    leak the answer (explanations, rationales) are never put here.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    input: str | list[Message]
    choices: dict[str, str] | None = None
    target: Any = None
    context: str | None = None
    subset: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    #: Images shown with the question, in order (empty for text items, and then not serialised).
    images: list[ItemImage] = Field(default_factory=list, exclude_if=lambda v: not v)


class ModelRequest(BaseModel):
    """A request as a protocol asks for it: the OpenAI request body minus ``model``.

    The body is kept verbatim (temperature, seed, n, logprobs, tools ... included) because
    the response cache and the resume journal key on the exact request.
    """

    kind: CallKind = "chat"
    body: dict[str, Any]


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class CallRecord(BaseModel):
    """One model call as it happened: the exact request, the raw response, and its cost.

    ``raw`` is the server's JSON, untouched; everything derived from it (text, logprobs,
    tool calls) is recomputed by ``medevals.models.openai_format`` so re-scoring can change
    how a response is read without a model.
    """

    role: str = "candidate"
    model: str
    kind: CallKind
    request: dict[str, Any]
    raw: dict[str, Any] | None = None
    error: str | None = None
    latency_s: float = 0.0
    attempts: int = 1
    cached: bool = False
    replayed: bool = False
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = None
    key: str = ""
    unit_id: str = ""


class Score(BaseModel):
    """The verdict on one sample.

    ``value`` is the primary metric for this sample; ``None`` means *unscored* (a judge that
    failed, a protocol error) and is excluded from denominators and counted separately. A
    model answer that cannot be parsed is scored (0) with ``parsed=False``: the model failed,
    not the measurement. ``applicable=False`` says the variant does not apply to this item (a
    unit perturbation of a question without units): the sample is in no denominator, counted as
    not applicable, and a variant with no applicable item shows no metric at all.
    """

    value: float | None
    answer: Any = None
    target: Any = None
    parsed: bool = True
    values: dict[str, float | None] = Field(default_factory=dict)
    confidence: float | None = None
    explanation: str | None = None
    applicable: bool = True
    #: Which rule read the answer out of the reply (``scoring.extract``'s ``Extraction.method``:
    #: ``letter``, ``stated``, ``json``, ``logprob``, ``unparseable`` ...; per call, comma-joined,
    #: when several calls vote), so the report can say why an answer was read as it was.
    method: str | None = Field(None, exclude_if=lambda v: v is None)


class Sample(BaseModel):
    """A finished unit of work (item x model x repeat x variant) as written to samples.jsonl."""

    unit_id: str
    benchmark: str
    item: Item
    repeat: int = 0
    variant: str = "default"
    calls: list[CallRecord] = Field(default_factory=list)
    output: dict[str, Any] = Field(default_factory=dict)
    score: Score | None = None
    error: str | None = None
    started_at: float = 0.0
    duration_s: float = 0.0

    @property
    def usage(self) -> Usage:
        u = Usage()
        for c in self.calls:
            u.prompt_tokens += c.usage.prompt_tokens
            u.completion_tokens += c.usage.completion_tokens
        return u

    @property
    def cost_usd(self) -> float | None:
        """Money spent on this sample; None when a call's price is unknown."""
        costs = [c.cost_usd for c in self.calls if not c.cached and not c.replayed]
        if any(c is None for c in costs):
            return None
        return float(sum(c for c in costs if c is not None))


class Unit(BaseModel):
    """A schedulable, serialisable unit of work. Executors (asyncio now, Ray later) move these."""

    benchmark: str
    item_index: int
    item_id: str
    repeat: int = 0
    variant: str = "default"

    @property
    def unit_id(self) -> str:
        return f"{self.benchmark}/{self.item_id}/{self.variant}/r{self.repeat}"


class BenchmarkRecord(BaseModel):
    """What the manifest records about one benchmark in a run."""

    name: str
    protocol: str
    task_type: str
    split: str
    n_items: int
    data_source: str
    data_hash: str
    taxonomy: Taxonomy
    license: str
    source: str
    options: dict[str, Any] = Field(default_factory=dict)
    templates: dict[str, str] = Field(default_factory=dict)
    variants: list[str] = Field(default_factory=lambda: ["default"])
    #: Source rows left out of the run, by reason (an image the data does not ship ...): counted,
    #: never silently dropped; ``n_items`` excludes them.
    skipped: dict[str, int] = Field(default_factory=dict)


class ModelRecord(BaseModel):
    """The model under test (or a judge/patient), without secrets."""

    spec: str
    backend: str
    name: str
    base_url: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    api_key_env: str | None = None
    #: (user, password) taken off the base URL's userinfo (``models/credentials.py``): a private
    #: attribute, so it is in no dump, manifest, hash or log; only the backend reads it.
    _url_credentials: tuple[str, str] | None = PrivateAttr(default=None)


class RunManifest(BaseModel):
    run_id: str
    medevals_version: str
    git_sha: str | None = None
    command: list[str] = Field(default_factory=list)
    created_at: str
    started_at: str | None = None
    ended_at: str | None = None
    #: running (a live process holds the folder's lock, or one died: resumable), complete (every
    #: unit done), incomplete (units failed for good: a re-run retries them), interrupted (signal,
    #: full disk, unreachable model: resumable), failed (an unexpected error: resumable).
    status: Literal["running", "complete", "incomplete", "interrupted", "failed"] = "running"
    #: Hash of everything that defines the results (model, benchmarks, options, seed...), for resume.
    config_hash: str = ""
    options: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    model: ModelRecord
    roles: dict[str, ModelRecord] = Field(default_factory=dict)
    benchmarks: list[BenchmarkRecord] = Field(default_factory=list)
    seed: int = 0
    repeats: int = 1
    limit: int | None = None
    concurrency: int = 8
    prices: dict[str, Any] = Field(default_factory=dict)
    platform: dict[str, str] = Field(default_factory=dict)
