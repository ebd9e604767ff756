"""``replay:FILE``: recorded model outputs answer each item, as if they were the model.

With it anyone can rescore published model outputs with medevals' scorers and compare the
number with the published table (``medevals run -m replay:outputs.jsonl -b medqa --mode
generate``). Every replayed answer takes the normal engine path (response cache, resume journal,
accounting), so judges, patients and embedders still run on real models, ``rescore`` and
``report`` work as on any run, and a replay call is marked (``CallRecord.model`` is
``replay:NAME@SHA``, the raw response carries ``medevals_replay: {"line": N}``) and costs $0.

The file is JSONL, one recorded model turn per line:

- ``{"id": "<item id>", "output": "<model text>"}``, or
- ``{"id": "<item id>", "response": {<a full OpenAI chat/completions response>}}`` (needed when
  the scorer reads more than text, e.g. option logprobs for ``--mode likelihood``);
- optional ``"variant"``: the strategy/variant the line answers (``zero-shot``, ``cot`` ...).
  A run with one variant uses lines naming it or naming none; a run with several needs it on
  every line it uses. Other keys are ignored (published files carry the question, the gold ...).

Repeats: the lines of one (id, variant) are that item's recorded samples in file order; with
``--repeats R`` there must be exactly R of them, and repeat r is answered by the r-th.

Replay applies where a unit makes exactly one call as the model under test
(``Protocol.single_turn_obstacle``): multiple choice in generate mode (zero-shot, few-shot, cot,
conf, kNN examples), calculation without tools, open diagnosis, rubric answers, MEDEC, NER, RAG.
Interactive consultation, the EHR agent, calculator tools, self-consistency, choice shuffling and
the probes/perturbations (which rewrite the question) are refused with one line before any work,
as is likelihood mode when a line it needs has no logprobs. Every item of the run must have its
recorded output(s): the first missing ids are listed before any work.

The file's sha256 is in the manifest (``model.settings.sha256``) and in the model's identity,
so a changed file is a different model (new run folder, no stale cache hits).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medevals.errors import ConfigError, DataError
from medevals.models.base import ModelBackend, PermanentModelError
from medevals.schema import CallKind, ModelRecord

if TYPE_CHECKING:
    from medevals.protocols.base import Protocol

SHOW_MISSING = 5
"""How many missing ids an error lists."""


@dataclass(frozen=True)
class Recorded:
    """One line of the file: the recorded output (text) or response (full JSON) for one model turn."""

    line: int
    item_id: str
    variant: str | None
    output: str | None = None
    response: dict[str, Any] | None = None


@dataclass
class ReplayFile:
    path: Path
    sha256: str
    n_lines: int
    #: (item id, variant or None) -> that item's recorded turns in file order (its repeats).
    entries: dict[tuple[str, str | None], list[Recorded]]

    def lines_for(self, item_id: str, variant: str) -> list[Recorded] | None:
        return self.entries.get((item_id, variant)) or self.entries.get((item_id, None))


_LOADED: dict[tuple[str, int, int], ReplayFile] = {}


def load(path: Path | str) -> ReplayFile:
    """Read and validate the file (memoised per path, size and mtime: the run reads it once)."""
    from medevals.benchmarks.readers import read_jsonl, require

    p = Path(path)
    if not p.is_file():
        raise DataError("replay file not found", path=p)
    st = p.stat()
    memo = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if memo in _LOADED:
        return _LOADED[memo]
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    entries: dict[tuple[str, str | None], list[Recorded]] = defaultdict(list)
    n = 0
    for line, row in read_jsonl(p):
        n += 1
        raw_id = require(row, "id", p, line, kind=(str, int))
        if isinstance(raw_id, bool):
            raise DataError("expected str or int, got bool", path=p, line=line, field="id")
        variant = row.get("variant")
        if variant is not None:
            variant = require(row, "variant", p, line)
        has_output, has_response = "output" in row, "response" in row
        if has_output == has_response:
            what = "both 'output' and 'response'" if has_output else "neither 'output' nor 'response'"
            raise DataError(
                f"{what}: give the model's text as 'output' or its full chat/completions JSON as 'response'",
                path=p,
                line=line,
            )
        if has_output:
            if not isinstance(row["output"], str):
                got = "null" if row["output"] is None else type(row["output"]).__name__
                raise DataError(f"expected a string, got {got}", path=p, line=line, field="output")
            rec = Recorded(line, str(raw_id), variant, output=row["output"])
        else:
            rec = Recorded(line, str(raw_id), variant, response=_valid_response(row["response"], p, line))
        entries[(rec.item_id, variant)].append(rec)
    loaded = ReplayFile(p, digest.hexdigest(), n, dict(entries))
    _LOADED.clear()  # one file per run: keep only the newest
    _LOADED[memo] = loaded
    return loaded


def _valid_response(resp: Any, path: Path, line: int) -> dict[str, Any]:
    from medevals.models import openai_format

    if not isinstance(resp, dict):
        raise DataError(
            f"expected a JSON object, got {type(resp).__name__}", path=path, line=line, field="response"
        )
    try:
        return openai_format.validate(resp, "chat")
    except openai_format.MalformedResponse as e:
        raise DataError(
            f"not a usable chat/completions response: {e}", path=path, line=line, field="response"
        ) from None


def replay_record(name: str, settings: dict[str, Any]) -> ModelRecord:
    """The model record of ``replay:FILE``: file name + hash prefix as its name, the full hash in settings."""
    f = load(name)
    settings = {**settings, "file": name, "sha256": f.sha256, "lines": f.n_lines}
    return ModelRecord(
        spec=f"replay:{name}", backend="replay", name=f"{f.path.name}@{f.sha256[:12]}", settings=settings
    )


def check_run(
    model: ModelRecord,
    benchmarks: list[tuple[str, Protocol, Any, list[str]]],
    repeats: int,
    roles: dict[str, ModelRecord],
) -> None:
    """Refuse, before any work, a run the file cannot answer: one line saying why.

    ``benchmarks`` holds (name, protocol, items, variants) per benchmark; items is the loaded
    ``ItemStore`` (ids are read without decoding items).
    """
    for role, rec in roles.items():
        if rec.backend == "replay":
            raise ConfigError(
                f"{role}: replay: answers the model under test only; judges, patients and embedders need a real model"
            )
    if len(benchmarks) != 1:
        raise ConfigError(
            f"{model.spec}: replay runs one benchmark at a time (the file's ids belong to one); "
            f"got {', '.join(b[0] for b in benchmarks)}"
        )
    f = load(model.settings["file"])
    if f.sha256 != model.settings.get("sha256"):
        raise ConfigError(f"{f.path}: the replay file changed while the run was being prepared")
    name, protocol, items, variants = benchmarks[0]
    if "/" in name:
        raise ConfigError(f"{model.spec}: replay cannot run benchmark '{name}' (a '/' in its name)")
    for v in variants:
        why = protocol.single_turn_obstacle(v)
        if why:
            raise ConfigError(
                f"{model.spec}: replay does not apply to benchmark '{name}' variant '{v}': {why} "
                f"(a recorded output answers exactly one model turn per item)"
            )
        if "/" in v:  # unit ids are BENCH/ITEM/VARIANT/rN: the backend reads them back
            raise ConfigError(f"{model.spec}: replay cannot run variant '{v}' (a '/' in its name)")
    several = len(variants) > 1
    ids = [items.id_at(i) for i in range(len(items))]
    for v in variants:
        logprobs = protocol.needs_logprobs(v)
        missing: list[str] = []
        for item_id in ids:
            lines = f.entries.get((item_id, v))
            if lines is None and (item_id, None) in f.entries:
                if several:
                    first = f.entries[(item_id, None)][0]
                    raise DataError(
                        f"missing; this run has variants {', '.join(variants)}: every line it uses must "
                        "name the variant it answers",
                        path=f.path,
                        line=first.line,
                        field="variant",
                    )
                lines = f.entries[(item_id, None)]
            if lines is None:
                missing.append(item_id)
                continue
            if len(lines) != repeats:
                raise DataError(
                    f"item '{item_id}' has {len(lines)} recorded output(s) for variant '{v}' but the run has "
                    f"--repeats {repeats} (repeat r is answered by the item's r-th line): pass --repeats {len(lines)}",
                    path=f.path,
                    line=lines[0].line,
                )
            if logprobs:
                _check_logprobs(f.path, lines)
        if missing:
            shown = ", ".join(repr(m) for m in missing[:SHOW_MISSING])
            more = f" and {len(missing) - SHOW_MISSING} more" if len(missing) > SHOW_MISSING else ""
            raise DataError(
                f"no recorded output for {len(missing)} of {len(ids)} items of benchmark '{name}'"
                + (f" (variant '{v}')" if several else "")
                + f": {shown}{more}",
                path=f.path,
            )


def _check_logprobs(path: Path, lines: Iterable[Recorded]) -> None:
    from medevals.models import openai_format

    for r in lines:
        if r.response is None:
            raise DataError(
                "likelihood mode reads the option logprobs, which an 'output' line does not carry: "
                "use --mode generate, or record full responses with logprobs",
                path=path,
                line=r.line,
                field="output",
            )
        if not openai_format.top_logprobs(r.response):
            raise DataError(
                "likelihood mode reads the option logprobs and this response has none: use --mode generate",
                path=path,
                line=r.line,
                field="response",
            )


def unit_parts(unit_id: str) -> tuple[str, str, int]:
    """``BENCH/ITEM/VARIANT/rN`` (``schema.Unit.unit_id``) -> (item id, variant, repeat).

    Exact because ``check_run`` refuses benchmark and variant names holding a '/' (item ids may).
    """
    head, variant, rep = unit_id.rsplit("/", 2)
    item_id = head.split("/", 1)[1]
    return item_id, variant, int(rep.removeprefix("r"))


class ReplayBackend(ModelBackend):
    """Answers each unit's one model turn from the file; never a network call."""

    per_unit = True

    def __init__(self, record: ModelRecord):
        super().__init__(record)
        self.file = load(record.settings["file"])
        if self.file.sha256 != record.settings.get("sha256"):
            raise ConfigError(
                f"{self.file.path}: the replay file changed since this run started "
                f"(sha256 {self.file.sha256[:12]}, the run has {str(record.settings.get('sha256'))[:12]}); "
                "start a new run"
            )
        #: unit -> the request it was answered for: a second, different request from one unit
        #: (a protocol that turned out to need two turns) is an error, never the same answer twice.
        self._answered: dict[str, str] = {}

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        raise PermanentModelError("replay answers calls of a unit only (send_for_unit)")

    async def send_for_unit(
        self, unit_id: str, kind: CallKind, body: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        from medevals.engine.keys import canonical_json

        if kind == "embedding":
            raise PermanentModelError("replay: recorded outputs cannot answer an embedding request")
        try:
            item_id, variant, repeat = unit_parts(unit_id)
        except (ValueError, IndexError):
            raise PermanentModelError(f"replay: call from '{unit_id}', which is not an item's unit") from None
        shape = hashlib.sha256(canonical_json(body).encode()).hexdigest()
        if self._answered.setdefault(unit_id, shape) != shape:
            raise PermanentModelError(
                f"replay: unit {unit_id} asked a second model turn; a recorded output answers one"
            )
        lines = self.file.lines_for(item_id, variant)
        if not lines or repeat >= len(lines):
            raise PermanentModelError(
                f"replay: {self.file.path} has no recorded output for item '{item_id}' variant '{variant}' "
                f"repeat {repeat}"
            )
        rec = lines[repeat]
        if rec.response is not None:
            raw = dict(rec.response)
        elif kind == "completion":
            raw = {
                "object": "text_completion",
                "choices": [{"index": 0, "text": rec.output, "finish_reason": "stop"}],
            }
        else:
            raw = {
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": rec.output},
                        "finish_reason": "stop",
                    }
                ],
            }
        raw["medevals_replay"] = {"line": rec.line}
        return raw
