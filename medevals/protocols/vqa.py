"""Open visual question answering (VQA-RAD, SLAKE, PathVQA): a short answer about the image(s).

The model answers in a word or phrase; ``scoring/vqa_match.py`` scores closed (yes/no) questions
by the yes/no the reply gives and open questions by normalised exact match, with token recall
and F1 beside them. With ``--judge SPEC`` (one or more) open answers are also judged for meaning
(``vqa_answer_equivalence@v1``; the judge sees the question and both answers, not the image) and
the jury's verdict becomes the open questions' primary value. Degradations (``degrade:KIND@S``)
run as variants, as in the MCQ protocol.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import Field, field_validator

from medevals.errors import ConfigError
from medevals.judging import templates
from medevals.judging.judge import JudgeTask, ask_jury, judge_roles
from medevals.judging.jury import JuryMethod, aggregate
from medevals.judging.verdicts import EquivalenceVerdict, read_record
from medevals.models import openai_format
from medevals.protocols.base import Protocol, SolveContext, comma_list
from medevals.protocols.image_parts import ImageOptions, prepare_item, user_content
from medevals.protocols.strategies import expand, parse
from medevals.schema import CallRecord, Item, Message, ModelRequest, Sample, Score
from medevals.scoring.stats import mean_ci
from medevals.scoring.vqa_match import match

INSTRUCTION = "Answer the question about the medical image using a single word or phrase."
_PREFIXES = ("answer:", "the answer is", "final answer:")


class VQAOptions(ImageOptions):
    strategy: list[str] = Field(default_factory=lambda: ["zero-shot"])
    instruction: str = INSTRUCTION
    system_prompt: str | None = None
    max_tokens: int = Field(64, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    jury: JuryMethod = "majority"
    judge_max_tokens: int = Field(256, ge=16)
    requires_judge: bool = False

    _split = field_validator("strategy", mode="before")(comma_list)

    @field_validator("strategy")
    @classmethod
    def _only_degradations(cls, v: list[str]) -> list[str]:
        out = expand(v)
        for name in out:
            st = parse(name)
            if name != "zero-shot" and (
                st.probe
                or st.shots
                or st.cot
                or st.samples > 1
                or st.shuffles > 1
                or st.verbal
                or not st.degrade
            ):
                raise ValueError(
                    f"strategy '{name}': open VQA runs zero-shot and degrade:KIND@S variants only"
                )
        return out


def clean_answer(text: str) -> str:
    """The first non-empty line, without an "Answer:" lead-in or markdown emphasis."""
    for line in (text or "").strip().splitlines():
        line = line.strip().strip("*").strip()
        low = line.lower()
        for p in _PREFIXES:
            if low.startswith(p):
                line = line[len(p) :].strip(" :")
                break
        if line:
            return line
    return ""


def answer_type(item: Item) -> str | None:
    t = item.metadata.get("answer_type")
    return str(t).strip().lower() if t else None


class VQAProtocol(Protocol):
    name = "vqa"
    primary_metric = "accuracy"
    Options = VQAOptions
    options: VQAOptions
    roles = ("judge",)

    def variants(self) -> list[str]:
        return list(self.options.strategy)

    def templates(self) -> dict[str, str]:
        t = {"instruction": self.options.instruction, **templates.recorded(templates.VQA_EQUIVALENCE)}
        if self.options.system_prompt:
            t["system"] = self.options.system_prompt
        return t

    def request(self, item: Item, ctx: SolveContext) -> ModelRequest:
        if ctx.is_base_model():
            raise ConfigError(f"item {item.id}: open VQA needs a chat model that takes images")
        o = self.options
        question = item.input if isinstance(item.input, str) else str(item.input)
        messages: list[Message] = []
        if o.system_prompt:
            messages.append({"role": "system", "content": o.system_prompt})
        messages.append(
            {"role": "user", "content": user_content(f"{question}\n{o.instruction}", item, o.image_position)}
        )
        return ModelRequest(
            kind="chat", body={"messages": messages, "max_tokens": o.max_tokens, "temperature": o.temperature}
        )

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        st = parse(ctx.variant) if ctx.variant != "default" else parse("zero-shot")
        shown, images = await prepare_item(item, ctx, self.options, degrade=st.degrade)
        rec = await ctx.generate(self.request(shown, ctx))
        prediction = clean_answer(openai_format.text(rec.raw))
        out: dict[str, Any] = {"prediction": prediction, "images": images, "judgements": []}
        m = match(prediction, str(item.target), answer_type(item))
        roles = judge_roles(ctx)
        if roles and m.kind == "open" and prediction:
            task = JudgeTask(
                template=templates.VQA_EQUIVALENCE,
                prompt=templates.render(
                    templates.VQA_EQUIVALENCE,
                    question=item.input,
                    reference=item.target,
                    prediction=prediction,
                ),
                schema=EquivalenceVerdict,
                max_tokens=self.options.judge_max_tokens,
            )
            out["judgements"] = [{"key": "equivalence", "judges": await ask_jury(ctx, task, roles)}]
        out["judged"] = bool(roles)
        return out

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        prediction = output.get("prediction") or ""
        m = match(prediction, str(item.target), answer_type(item))
        values: dict[str, float | None] = {}
        value: float | None = m.correct
        explanation = f"{m.kind}: " + ("yes/no read" if m.kind == "closed" else "normalised exact match")
        if m.kind == "closed":
            values["closed_accuracy"] = m.correct
        else:
            values.update(open_exact_match=m.exact, open_token_recall=m.recall, open_token_f1=m.f1)
            if output.get("judged") and prediction:
                judges = output["judgements"][0]["judges"] if output.get("judgements") else {}
                labels = []
                for role in sorted(judges):
                    v = read_record(judges[role])
                    labels.append(float(bool(v.label)) if v.ok else None)
                    values[role] = labels[-1]
                value = aggregate(labels, self.options.jury)  # None (unscored) when every judge failed
                values["open_judged"] = value
                explanation = "open: judged equivalence (jury)"
        values["accuracy"] = value
        return Score(
            value=value,
            answer=m.answer if m.kind == "closed" else prediction,
            target=item.target,
            parsed=m.parsed,
            values=values,
            explanation=explanation,
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        from medevals.protocols.image_summary import ImageTally

        tally = ImageTally(list(self.options.strategy))
        head = self.options.strategy[0]
        by_kind: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        by_type: dict[str, list[float]] = defaultdict(list)
        for s in samples:
            tally.add(s)
            sc = s.score
            if s.variant != head or sc is None:
                continue
            kind = "closed" if "closed_accuracy" in sc.values else "open"
            for k, v in sc.values.items():
                if v is not None and not k.startswith("judge:"):
                    by_kind[kind][k].append(float(v))
            qtype = s.item.metadata.get("question_type")
            if qtype and sc.value is not None:
                by_type[str(qtype)].append(float(sc.value))
        tables: list[dict[str, Any]] = []
        plots: list[dict[str, Any]] = []
        rows = []
        for kind, metric, label in (
            ("closed", "closed_accuracy", "closed (yes/no) accuracy"),
            ("open", "open_exact_match", "open: exact match"),
            ("open", "open_token_recall", "open: token recall"),
            ("open", "open_token_f1", "open: token F1"),
            ("open", "open_judged", "open: judged equivalent"),
        ):
            vals = by_kind.get(kind, {}).get(metric)
            if vals:
                rows.append([label, mean_ci(vals)])
        if rows:
            tables.append(
                {
                    "title": f"VQA by question kind ({head})",
                    "columns": ["measure", "value"],
                    "rows": rows,
                    "caption": "Closed: the yes/no the reply gives (neither or both = unparseable, scored wrong). "
                    "Open: normalised exact match; token recall/F1 over normalised tokens; judged = jury verdict.",
                }
            )
        if len(by_type) > 1:
            tables.append(
                {
                    "title": f"Accuracy by question type ({head})",
                    "columns": ["question type", "accuracy"],
                    "rows": [[k, mean_ci(v)] for k, v in sorted(by_type.items())],
                }
            )
        tally.render(tables, plots)
        return {"tables": tables, "plots": plots}
