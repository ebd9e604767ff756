"""Medical error detection and correction (MEDEC): flag the error, name its sentence, correct it.

The model sees the text one numbered sentence per line and answers ``CORRECT`` or
``<sentence id> <corrected sentence>`` (the MEDEC shared-task format). Per sample:

- ``flag_accuracy``: the error flag (error / no error) is right (primary metric);
- ``sentence_accuracy``: the erroneous sentence id is right (for error-free texts: saying CORRECT);
- ``correction_rouge1``: ROUGE-1 F1 of the corrected sentence against the reference correction,
  on texts that have an error only (a missed error scores 0).

BERTScore is added in ``summarize`` only when the ``bert-score`` package is installed and its
model loads; otherwise the report says it is ROUGE-1 only. No judge is involved: every metric
is computed from the text, so ``--judge`` is not needed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.protocols.freetext import single_turn_request
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.stats import mean_ci

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


@functools.cache
def _rouge1_scorer() -> Any:
    """One scorer per process: building it (stemmer, tokenizer) costs more than a score."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)


def rouge1(reference: str, prediction: str) -> float:
    return float(_rouge1_scorer().score(reference, prediction)["rouge1"].fmeasure)


class ErrorDetectionProtocol(Protocol):
    name = "error-detection"
    primary_metric = "flag_accuracy"
    Options = ErrorDetectionOptions
    options: ErrorDetectionOptions

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
        values: dict[str, float | None] = {}
        if ans is None:
            values = {"flag_accuracy": 0.0, "sentence_accuracy": 0.0}
            values["correction_rouge1"] = 0.0 if gold["flag"] else None
            return Score(
                value=0.0,
                answer=reply[:200],
                target=gold,
                parsed=False,
                values=values,
                explanation="unreadable",
            )
        values["flag_accuracy"] = float(ans["flag"] == gold["flag"])
        values["sentence_accuracy"] = float(
            ans["flag"] == gold["flag"] and ans["sentence_id"] == gold["sentence_id"]
        )
        if gold["flag"]:
            values["correction_rouge1"] = (
                rouge1(gold["corrected_sentence"], ans["correction"]) if ans["flag"] else 0.0
            )
        return Score(value=values["flag_accuracy"], answer=ans, target=gold, values=values)

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        tp = fp = fn = tn = 0
        refs: list[str] = []
        preds: list[str] = []
        for s in samples:
            if s.score is None or s.score.value is None:
                continue
            gold = s.item.target["flag"]
            ans = s.score.answer if isinstance(s.score.answer, dict) else {"flag": 0, "correction": ""}
            pred = ans.get("flag", 0) if s.score.parsed else 0
            tp += gold == 1 and pred == 1
            fp += gold == 0 and pred == 1
            fn += gold == 1 and pred == 0
            tn += gold == 0 and pred == 0
            if gold == 1:
                refs.append(s.item.target["corrected_sentence"])
                preds.append(ans.get("correction", "") if pred == 1 else "")
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
        note, bert = self._bertscore(refs, preds)
        row: list[Any] = [
            "ROUGE-1 F1 (rouge-score, stemmed)",
            mean_ci([rouge1(r, p) if p else 0.0 for r, p in zip(refs, preds, strict=True)]),
        ]
        rows = [row]
        if bert is not None:
            rows.append(["BERTScore F1", mean_ci(bert)])
        rows.append([note, ""])
        tables.append(
            {
                "title": "Correction quality (texts with an error; a missed error scores 0)",
                "columns": ["metric", "value"],
                "rows": rows,
            }
        )
        return {
            "tables": tables,
            "correction_metrics": "ROUGE-1 + BERTScore" if bert is not None else "ROUGE-1 only",
            "correction_note": note,
        }

    def _bertscore(self, refs: list[str], preds: list[str]) -> tuple[str, list[float] | None]:
        import importlib.util

        if not self.options.bertscore:
            return "BERTScore disabled (--set bertscore=false): ROUGE-1 only", None
        if importlib.util.find_spec("bert_score") is None:
            return "BERTScore not computed: the bert-score package is not installed (ROUGE-1 only)", None
        if not refs:
            return "BERTScore: no texts with an error", None
        try:
            from bert_score import score as bert_score

            _, _, f = bert_score(preds, refs, lang="en", verbose=False)
            return "BERTScore computed with bert-score defaults (lang=en)", [float(x) for x in f]
        except Exception as e:  # its model may be absent offline: say so, keep ROUGE
            return f"BERTScore not computed: {type(e).__name__}: {str(e)[:120]} (ROUGE-1 only)", None


def _r(x: float) -> float | str:
    return "n/a" if x != x else round(x, 4)
