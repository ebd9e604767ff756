"""Named-entity recognition: the model lists the entities of given types as JSON; scored per span.

The reply is read with ``scoring.json_extract.extract_json`` and aligned to the sentence's
tokens by ``scoring.ner_spans`` (rules there). A reply without usable JSON is *unparsed*:
counted, and scored as predicting nothing (every gold entity missed). Per sample the value is
``sentence_exact`` (the predicted span set equals the gold set); the headline numbers are the
corpus-level strict and partial precision/recall/F1 per type from ``nervaluate`` in the summary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import Field, field_validator

from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.schema import CallRecord, Item, Message, ModelRequest, Sample, Score
from medevals.scoring.ner_spans import evaluate_spans, f1_with_ci, parse_entities
from medevals.scoring.stats import PROPORTION, MetricSpec

INSTRUCTION = (
    "Extract every mention of these entity types from the sentence: {types}.\n"
    "Reply with one line of JSON only, listing each distinct mention once with its text copied exactly "
    'from the sentence, for example {example}. If there are none, reply {{"entities": []}}.'
)
#: Illustrative mentions for the format example (a concrete example is echoed far less than a placeholder).
EXAMPLE_MENTIONS = {"disease": "breast cancer", "chemical": "aspirin", "gene": "BRCA1", "species": "mice"}


class NEROptions(ProtocolOptions):
    types: list[str] = Field(default_factory=lambda: ["Disease"])
    max_tokens: int = Field(200, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    system_prompt: str | None = None

    @field_validator("types", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        v = comma_list(v)
        if not v:
            raise ValueError("at least one entity type")
        return v


class NERProtocol(Protocol):
    name = "ner"
    primary_metric = "sentence_exact"
    Options = NEROptions
    options: NEROptions

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        return PROPORTION  # sentence_exact: a sentence's span set is exactly right, or not

    def instruction(self) -> str:
        types = self.options.types
        example = [{"text": EXAMPLE_MENTIONS.get(t.lower(), f"<{t} mention>"), "type": t} for t in types[:2]]
        return INSTRUCTION.format(types=", ".join(types), example=json.dumps({"entities": example}))

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None  # one answer call per item (the entity list read from it)

    def templates(self) -> dict[str, str]:
        t = {"instruction": self.instruction(), "user": "{instruction}\\n\\nSentence: {sentence}"}
        if self.options.system_prompt:
            t["system"] = self.options.system_prompt
        return t

    def build_request(self, item: Item, ctx: SolveContext) -> ModelRequest:
        o = self.options
        sentence = item.input if isinstance(item.input, str) else str(item.input)
        user = f"{self.instruction()}\n\nSentence: {sentence}"
        if ctx.is_base_model():
            return ModelRequest(
                kind="completion",
                body={
                    "prompt": f"{user}\nJSON:",
                    "max_tokens": o.max_tokens,
                    "temperature": o.temperature,
                    "stop": ["\n"],  # the JSON reply is one line; base models otherwise ramble on
                },
            )
        messages: list[Message] = []
        if o.system_prompt:
            messages.append({"role": "system", "content": o.system_prompt})
        messages.append({"role": "user", "content": user})
        return ModelRequest(
            kind="chat", body={"messages": messages, "max_tokens": o.max_tokens, "temperature": o.temperature}
        )

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        if "tokens" not in item.metadata:
            raise ConfigError(f"item {item.id}: the ner protocol needs metadata.tokens")
        await ctx.generate(self.build_request(item, ctx))
        return {}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        text = openai_format.text(calls[-1].raw) if calls else None
        parsed = parse_entities(text, list(item.metadata.get("tokens") or []), self.options.types)
        gold = sorted((s["type"], s["start"], s["end"]) for s in item.target or [])
        pred = sorted((s["type"], s["start"], s["end"]) for s in parsed.spans)
        exact = float(parsed.parsed and gold == pred)
        problems = {
            "unaligned": parsed.unaligned,
            "unknown_type": parsed.unknown_type,
            "malformed": parsed.malformed,
        }
        return Score(
            value=exact,
            answer=parsed.spans,
            target=list(item.target or []),
            parsed=parsed.parsed,
            values={"sentence_exact": exact},
            explanation=parsed.error or (json.dumps(problems) if any(problems.values()) else None),
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        types = list(self.options.types)
        gold: list[list[dict[str, Any]]] = []
        pred: list[list[dict[str, Any]]] = []
        counts = {"sentences": 0, "failed calls (excluded)": 0, "unparsed replies (predict nothing)": 0}
        counts.update(
            {"entities not found in the sentence (spurious)": 0, "entities of unknown type (dropped)": 0}
        )
        counts["malformed entity records (dropped)"] = 0
        for s in samples:
            if s.score is None:
                counts["failed calls (excluded)"] += 1
                continue
            counts["sentences"] += 1
            gold.append(list(s.item.target or []))
            pred.append(list(s.score.answer or []))
            if not s.score.parsed:
                counts["unparsed replies (predict nothing)"] += 1
            elif s.score.explanation and s.score.explanation.startswith("{"):
                p = json.loads(s.score.explanation)
                counts["entities not found in the sentence (spurious)"] += len(p.get("unaligned", []))
                counts["entities of unknown type (dropped)"] += len(p.get("unknown_type", []))
                counts["malformed entity records (dropped)"] += int(p.get("malformed", 0))
        if not gold:
            return {}
        res = evaluate_spans(gold, pred, types)

        def row(label: str, r: dict[str, Any]) -> list[Any]:
            st, pa = r["strict"], r["partial"]
            return [
                label,
                round(st["precision"], 4),
                round(st["recall"], 4),
                round(st["f1"], 4),
                round(pa["precision"], 4),
                round(pa["recall"], 4),
                round(pa["f1"], 4),
                st["possible"],
                st["actual"],
            ]

        rows = [row(t, res["types"][t]) for t in types if res["types"].get(t)]
        rows.append(row("overall (micro)", res["overall"]))
        per_doc = res.pop("per_doc")  # per-sentence counts: only for the CI, too bulky for metrics.json
        headline = {scheme: f1_with_ci(per_doc[scheme]) for scheme in ("strict", "partial")}
        return {
            "tables": [
                {
                    "title": "Micro F1 over all types, 95% CI (bootstrap over sentences)",
                    "columns": ["scheme", "F1 % [95% CI]", "sentences"],
                    "rows": [[k, v, v["n"]] for k, v in headline.items()],
                    "terminal": True,
                },
                {
                    "title": "Entity spans, strict (exact boundary and type) and partial (overlap), nervaluate",
                    "columns": ["type", "P", "R", "F1", "P part", "R part", "F1 part", "gold", "pred"],
                    "rows": rows,
                    "terminal": True,
                },
                {
                    "title": "Output problems",
                    "columns": ["problem", "count"],
                    "rows": [[k, v] for k, v in counts.items()],
                    "terminal": True,
                },
            ],
            "ner": res,
            "f1": headline,
            "problems": counts,
        }
