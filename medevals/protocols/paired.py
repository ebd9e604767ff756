"""Paired-image multiple choice (MediConfusion): one question, one image per member, different answers.

An item is a pair (or any group): ``images`` are its members in order and ``target`` lists the
correct letter of each. Each member is put to the model exactly as the image-aware MCQ protocol
would put a one-image item (same strategies, ensembles, degradations, extraction, calibration),
so this protocol only splits a pair into members and scores the pair: set accuracy (headline),
individual accuracy and confusion (``scoring/confusion.py``). ``answer_rule=mediconfusion`` reads
generated replies with upstream's multiple-choice rule instead of ``extract_choice``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import field_validator

from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols.mcq import MCQOptions, MCQProtocol
from medevals.protocols.strategies import parse
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.confusion import pair_outcome, upstream_letter

#: Probes whose answers are not one letter per member (a list per shift; a text overlap).
UNPAIRABLE = ("probe:position", "probe:completion")


class PairedOptions(MCQOptions):
    answer_rule: Literal["extract", "mediconfusion"] = "extract"

    @field_validator("strategy")
    @classmethod
    def _pairable(cls, v: list[str]) -> list[str]:
        for name in v:
            st = parse(name)
            if st.probe in UNPAIRABLE:
                raise ValueError(f"strategy '{name}' does not give one answer per image of a pair")
            if st.shots:
                raise ValueError(f"strategy '{name}': few-shot examples are not supported for image pairs")
        return v


class PairedMCQProtocol(MCQProtocol):
    name = "paired-mcq"
    primary_metric = "set_accuracy"
    Options = PairedOptions
    options: PairedOptions

    @staticmethod
    def member(item: Item, i: int) -> Item:
        """Member ``i`` of a pair as a one-image MCQ item (its own id, image and target)."""
        targets = item.target if isinstance(item.target, list) else None
        if targets is None or len(targets) != len(item.images) or len(targets) < 2:
            raise ConfigError(
                f"item {item.id}: a paired item needs >= 2 images and one target letter per image"
            )
        return item.model_copy(
            update={"id": f"{item.id}#{i + 1}", "images": [item.images[i]], "target": targets[i]}
        )

    async def solve(self, item: Item, ctx: Any) -> dict[str, Any]:
        members: list[dict[str, Any]] = []
        for i in range(len(item.images)):
            start = len(ctx.calls)
            out = await super().solve(self.member(item, i), ctx)
            out["n_calls"] = len(ctx.calls) - start
            members.append(out)
        images = [im for m in members for im in m.get("images", [])]
        return {"members": members, "images": images}

    def _read(
        self,
        raw: dict[str, Any] | None,
        mode: str,
        choices: dict[str, str],
        language: str = "en",
        multi: bool = False,
    ) -> tuple[Any, Any, str, str]:  # type: ignore[override]
        if self.options.answer_rule == "mediconfusion" and mode != "likelihood":
            reply = openai_format.text(raw)
            answer = upstream_letter(reply, list(choices))
            return answer, None, ("mediconfusion-rule" if answer else "unparseable"), reply
        return MCQProtocol._read(raw, mode, choices, language, multi)

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        members = output.get("members") or []
        scores: list[Score] = []
        at = 0
        for i, out in enumerate(members):
            n = int(out.get("n_calls", 0))
            scores.append(super().score(self.member(item, i), out, calls[at : at + n], variant))
            at += n
        answers = [s.answer for s in scores]
        targets = [s.target for s in scores]
        outcome = pair_outcome(answers, targets)
        confs = [s.confidence for s in scores]
        confidence = (
            math.prod(c for c in confs if c is not None)
            if confs and all(c is not None for c in confs)
            else None
        )
        value = float(outcome.set_correct)
        return Score(
            value=value,
            answer=answers,
            target=targets,
            parsed=outcome.valid,
            values={
                "set_accuracy": value,
                "individual_accuracy": outcome.individual,
                # over pairs with both answers valid, as upstream divides (None leaves the denominator)
                "confusion": float(outcome.confused) if outcome.valid else None,
            },
            confidence=confidence,
            explanation="; ".join(f"image {i + 1}: {s.explanation}" for i, s in enumerate(scores)),
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        from medevals.protocols.paired_summary import summarize

        return summarize(samples, self.options.strategy)
