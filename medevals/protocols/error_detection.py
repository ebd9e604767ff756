"""Medical error detection and correction (MEDEC): flag the error, name its sentence, correct it.

The model sees the text one numbered sentence per line and answers ``CORRECT`` or
``<sentence id> <corrected sentence>`` (the MEDEC prompt's format). Scored as the MEDIQA-CORR
2024 evaluation script that MEDEC's README names (rules in ``scoring.correction``), per text:

- ``flag_accuracy``: the error flag (error / no error) is right (primary metric);
- ``sentence_accuracy``: the error sentence id is right (-1, i.e. CORRECT, for a correct text);
- ``correction_rouge1``: the text's share of the ROUGE-1 composite (R1FC): 1 when neither
  reference nor answer has a correction, 0 when exactly one has, ROUGE-1 F of the two
  sentences otherwise; its mean over all texts is R1FC.

An unreadable reply is a missing prediction: 0 on all three, as an absent line is upstream.
BERTScore (the scorer's settings: deberta-xlarge-mnli, rescaled, clipped to [0, 1]) is added to
the summary as BERTC when ``bert-score`` is installed and its model loads; BLEURT-20 and the
scorer's aggregate (the mean of the three) are not computed here, and the report says so. No
judge is involved: every metric is computed from the text, so ``--judge`` is not needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.protocols.freetext import single_turn_request
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.correction import NA, clean_candidate, na_rule, rouge1_f
from medevals.scoring.stats import CONTINUOUS, PROPORTION, MetricSpec, mean_ci

#: The scorer's BERTScore settings (MEDIQA-CORR 2024 evaluation script).
BERTSCORE_MODEL = "microsoft/deberta-xlarge-mnli"

INSTRUCTION = (
    "The following is a clinical text about a patient, one sentence per line, each line starting with "
    "its sentence id. The text is either correct or contains exactly one medical error (in diagnosis, "
    "management, treatment, pharmacotherapy or causal organism). If the text is correct, reply "
    "CORRECT. Otherwise reply with the id of the sentence containing the error, a space, and the "
    "corrected sentence. Reply on one line, nothing else."
)
BASE_PROMPT = "{instruction}\n\nText:\n{text}\nAnswer:"

_CORRECT = re.compile(r"^\W*correct\b", re.I)
_LINE = re.compile(r"^\W*(?:sentence\s*(?:id)?\s*)?(\d+)\s*[:|.)\-]?\s+(\S.*)$", re.I)


class ErrorDetectionOptions(ProtocolOptions):
    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    bertscore: bool = Field(True, description="add BERTScore when bert-score is installed")


def parse_answer(text: str) -> dict[str, Any] | None:
    """{'flag': 0} for CORRECT, {'flag': 1, 'sentence_id', 'correction'}, or None if unreadable."""
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if _CORRECT.match(line):
            return {"flag": 0, "sentence_id": -1, "correction": ""}
        m = _LINE.match(line)
        if m:
            return {"flag": 1, "sentence_id": int(m.group(1)), "correction": m.group(2).strip()}
    return None


def texts(gold: dict[str, Any], ans: dict[str, Any] | None) -> tuple[str, str | None]:
    """(reference, candidate) corrections as the scorer compares them: "NA" for none, candidate
    None for a missing (unreadable) prediction."""
    reference = str(gold.get("corrected_sentence") or NA) if gold["flag"] else NA
    if ans is None:
        return reference, None
    candidate = clean_candidate(str(ans.get("correction") or "")) if ans["flag"] else NA
    return reference, candidate or NA


class ErrorDetectionProtocol(Protocol):
    name = "error-detection"
    primary_metric = "flag_accuracy"
    Options = ErrorDetectionOptions
    options: ErrorDetectionOptions

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        return CONTINUOUS if name.startswith("correction") else PROPORTION

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None  # one answer call per item (flag, sentence and correction read from it)

    def templates(self) -> dict[str, str]:
        return {"instruction": INSTRUCTION, "base_prompt": BASE_PROMPT}

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        o = self.options
        text = str(item.input).strip()
        request = single_turn_request(
            base=ctx.is_base_model(),
            instruction=INSTRUCTION,
            text=text,
            base_prompt=BASE_PROMPT.format(instruction=INSTRUCTION, text=text),
            stop=["\nText:"],
            max_tokens=o.max_tokens,
            temperature=o.temperature,
        )
        await ctx.generate(request)
        return {}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        gold = item.target
        reply = openai_format.text(calls[-1].raw) if calls else ""
        ans = parse_answer(reply)
        reference, candidate = texts(gold, ans)
        decided = na_rule(reference, candidate)
        correction = decided if decided is not None else rouge1_f(reference, str(candidate))
        if ans is None:
            return Score(
                value=0.0,
                answer=reply[:200],
                target=gold,
                parsed=False,
                values={"flag_accuracy": 0.0, "sentence_accuracy": 0.0, "correction_rouge1": correction},
                explanation="unreadable",
            )
        values: dict[str, float | None] = {
            "flag_accuracy": float(ans["flag"] == gold["flag"]),
            # the id alone, as upstream: a CORRECT answer carries -1, a correct text's id is -1
            "sentence_accuracy": float(ans["sentence_id"] == gold["sentence_id"]),
            "correction_rouge1": correction,
        }
        return Score(value=values["flag_accuracy"], answer=ans, target=gold, values=values)

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        tp = fp = fn = tn = 0
        composite: list[float | None] = []  # per text: the NA rule's 1 / 0, or None for a pair
        refs: list[str] = []
        cands: list[str] = []
        for s in samples:
            if s.score is None or s.score.value is None:
                continue
            gold = s.item.target
            ans = s.score.answer if s.score.parsed and isinstance(s.score.answer, dict) else None
            pred = ans["flag"] if ans is not None else 0
            tp += gold["flag"] == 1 and pred == 1
            fp += gold["flag"] == 0 and pred == 1
            fn += gold["flag"] == 1 and pred == 0
            tn += gold["flag"] == 0 and pred == 0
            reference, candidate = texts(gold, ans)
            decided = na_rule(reference, candidate)
            composite.append(decided)
            if decided is None:
                refs.append(reference)
                cands.append(str(candidate))

        def over_all_texts(pair_scores: list[float]) -> list[float]:
            scores = iter(pair_scores)
            return [c if c is not None else next(scores) for c in composite]

        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        tables: list[dict[str, Any]] = [
            {
                "title": "Error flag confusion (error = positive)",
                "columns": ["TP", "FP", "FN", "TN", "precision", "recall", "F1"],
                "rows": [[tp, fp, fn, tn, _r(precision), _r(recall), _r(f1)]],
            }
        ]
        rouge_pairs = [rouge1_f(r, c) for r, c in zip(refs, cands, strict=True)]
        rows: list[list[Any]] = [
            ["ROUGE-1 composite (R1FC)", mean_ci(over_all_texts(rouge_pairs), spec=CONTINUOUS)],
            ["ROUGE-1 on corrected pairs only (R1F subset check)", mean_ci(rouge_pairs, spec=CONTINUOUS)],
        ]
        note, bert = self._bertscore(refs, cands)
        if bert is not None:
            rows.append(["BERTScore composite (BERTC)", mean_ci(over_all_texts(bert), spec=CONTINUOUS)])
        rows.append([note, ""])
        rows.append(["BLEURT-20 (BLEURTC) and the aggregate score: not computed (no BLEURT here)", ""])
        tables.append(
            {
                "title": "Correction quality, MEDIQA-CORR composite over every text",
                "columns": ["metric", "value"],
                "rows": rows,
                "caption": (
                    "Per text: 1 when neither the reference nor the answer has a correction, 0 when "
                    "exactly one has or the reply is unreadable, the metric on the two sentences "
                    "otherwise; the composite is the mean over all texts."
                ),
            }
        )
        return {
            "tables": tables,
            "correction_metrics": "ROUGE-1 + BERTScore" if bert is not None else "ROUGE-1 only",
            "correction_note": note,
        }

    def _bertscore(self, refs: list[str], preds: list[str]) -> tuple[str, list[float] | None]:
        """Per-pair BERTScore F1 with the scorer's settings, clipped to [0, 1]; or why not."""
        from medevals.scoring.lexical import bertscore

        r = bertscore(
            refs,
            preds,
            model_type=BERTSCORE_MODEL,
            rescale=True,
            clip=(0.0, 1.0),
            enabled=self.options.bertscore,
            alone="ROUGE-1 only",
        )
        return r.note, r.f1


def _r(x: float) -> float | str:
    return "n/a" if x != x else round(x, 4)
