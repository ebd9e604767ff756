"""Lexical baselines shown beside every judged free-text score: ROUGE, and BERTScore when available.

ROUGE is Google's ``rouge-score`` package called the way Hugging Face ``evaluate``'s ``rouge``
metric calls it (the metric ACI-Bench's ``evaluation/evaluate_fullnote.py`` uses): F-measure of
``rouge1``, ``rouge2``, ``rougeL`` and ``rougeLsum`` per pair, no stemming, the package's default
tokenizer (lower-case, runs of ``[a-z0-9]``). ``rougeL`` is the LCS of the two texts as one
sequence; ``rougeLsum`` is the summary-level LCS over sentences split at newlines (a text
without newlines is one sentence, so there the two are equal). ACI-Bench's tables print the
``rougeLsum`` value in their "ROUGE-L" column.

BERTScore needs the ``bert-score`` package *and* its model weights (normally downloaded from
the Hugging Face hub). Both are detected at summary time; when either is missing the report
says why in one line and ROUGE stands alone: nothing is downloaded behind the user's back and
a missing model never fails a run.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


@functools.cache
def _scorer(stem: bool) -> Any:
    """One scorer per process and setting: building it costs more than scoring a pair."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=stem)


def rouge(reference: str, prediction: str, *, stem: bool = False) -> dict[str, float]:
    """ROUGE-1/2/L/Lsum F-measures of one prediction against one reference (0 when either is empty)."""
    scores = _scorer(stem).score(reference, prediction)
    return {k: float(scores[k].fmeasure) for k in ROUGE_TYPES}


@dataclass(frozen=True)
class BertScoreResult:
    """Per-pair F1 values, or ``None`` with the reason in ``note``."""

    f1: list[float] | None
    note: str


def bertscore(
    references: Sequence[str],
    predictions: Sequence[str],
    *,
    model_type: str | None = None,
    lang: str = "en",
    rescale: bool = False,
    clip: tuple[float, float] | None = None,
    enabled: bool = True,
    alone: str = "ROUGE only",
) -> BertScoreResult:
    """BERTScore F1 per pair (``bert_score.score`` with ``model_type``/``lang``, optionally rescaled
    with its baseline and clipped), never downloading. ``alone`` names what the report keeps
    when BERTScore is absent ("ROUGE only").

    ``HF_HUB_OFFLINE`` is honoured by the libraries underneath; a model that is not on disk
    raises inside ``bert_score`` and becomes a note, as does a missing package.
    """
    if not enabled:
        return BertScoreResult(None, f"BERTScore disabled (--set bertscore=false): {alone}")
    if importlib.util.find_spec("bert_score") is None:
        return BertScoreResult(
            None, f"BERTScore not computed: the bert-score package is not installed ({alone})"
        )
    if not references:
        return BertScoreResult([], "BERTScore: no pairs to compare")
    try:
        from bert_score import score as bert_score_fn

        kw: dict[str, Any] = {"lang": lang, "verbose": False}
        if model_type:
            kw["model_type"] = model_type
        if rescale:
            kw["rescale_with_baseline"] = True
        _, _, f = bert_score_fn(list(predictions), list(references), **kw)
        values = [float(x) for x in f]
        if clip is not None:
            values = [min(clip[1], max(clip[0], v)) for v in values]
        how = model_type or f"the bert-score default model for lang={lang}"
        how += ", rescaled with its baseline" if rescale else ""
        how += f", clipped to [{clip[0]:g}, {clip[1]:g}]" if clip else ""
        return BertScoreResult(values, f"BERTScore: {how}")
    except Exception as e:  # the model may be absent offline: say so, keep ROUGE
        msg = str(e).splitlines()[0][:120] if str(e) else ""
        return BertScoreResult(None, f"BERTScore not computed: {type(e).__name__}: {msg} ({alone})")
