"""Model NER output -> token spans, and strict/partial span metrics via ``nervaluate``.

The model names entities by their text (``{"entities": [{"text", "type"}]}``), because
token offsets are not something a language model can be trusted to count. Each entity text
is aligned to the sentence's tokens ignoring whitespace and case, and only at token
boundaries; every non-overlapping occurrence is labelled (a mention repeated in a sentence
is one entity per occurrence, as in the gold annotation). An entity whose text is not in the
sentence is kept as a *spurious* prediction placed after the sentence's last token, so it
costs precision instead of vanishing; entities of an unknown type are counted and dropped.

Scoring is the SemEval-2013 9.1 scheme as ``nervaluate`` defines it (strict: boundaries and
type; partial: overlap, type ignored). Two properties are made explicit here because
``nervaluate`` alone does not give them: the input format is named (it guesses it from the
first gold entity of the first sentence, which crashes when that sentence has none), and each
sentence's predictions are handed over in a canonical order, exact matches first, because its
greedy pairing gives a gold entity to whichever overlapping prediction comes first: a model
listing "cancer" before "breast cancer" would otherwise lose a correct entity. Metrics are
thus a function of the span *sets*, whatever the order of sentences or of listed entities.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from medevals.scoring.json_extract import extract_json

Span = dict[str, Any]  # {"type": str, "start": int, "end": int}, end inclusive


@dataclass
class ParsedEntities:
    spans: list[Span]
    parsed: bool
    error: str | None = None
    unaligned: list[str] = field(default_factory=list)
    unknown_type: list[str] = field(default_factory=list)
    malformed: int = 0


def _compact(text: str) -> str:
    return "".join(text.split()).lower()


def align(tokens: list[str], entity: str) -> list[tuple[int, int]]:
    """Token spans (inclusive) where ``entity`` occurs at token boundaries, whitespace and case ignored."""
    needle = _compact(entity)
    if not needle:
        return []
    starts: dict[int, int] = {}  # char offset in the compact sentence -> token index starting there
    ends: dict[int, int] = {}  # char offset just past a token -> token index ending there
    pos = 0
    parts = []
    for i, tok in enumerate(tokens):
        t = _compact(tok)
        starts[pos] = i
        pos += len(t)
        ends[pos] = i
        parts.append(t)
    hay = "".join(parts)
    out: list[tuple[int, int]] = []
    at = hay.find(needle)
    while at != -1:
        stop = at + len(needle)
        if at in starts and stop in ends:
            out.append((starts[at], ends[stop]))
            at = hay.find(needle, stop)
        else:
            at = hay.find(needle, at + 1)
    return out


def parse_entities(text: str | None, tokens: list[str], types: list[str]) -> ParsedEntities:
    """Read the model's JSON reply into token spans (see the module docstring for the rules)."""
    # The entity list, or {"entities": [...]}; stray objects a base model appends are skipped.
    ex = extract_json(text, accept=lambda v: isinstance(v, list) or "entities" in v)
    if ex.value is None:
        return ParsedEntities([], parsed=False, error=ex.error)
    value = ex.value
    if isinstance(value, dict):
        value = value.get("entities")
    if not isinstance(value, list):
        return ParsedEntities([], parsed=False, error="JSON has no 'entities' list")
    by_lower = {t.lower(): t for t in types}
    result = ParsedEntities([], parsed=True)
    seen: set[tuple[str, int, int]] = set()
    overflow = len(tokens)
    for ent in value:
        if (
            not isinstance(ent, dict)
            or not isinstance(ent.get("text"), str)
            or not isinstance(ent.get("type"), str)
        ):
            result.malformed += 1
            continue
        label = by_lower.get(ent["type"].strip().lower())
        if label is None:
            result.unknown_type.append(ent["type"])
            continue
        spans = align(tokens, ent["text"])
        if not spans:
            result.unaligned.append(ent["text"])
            spans = [(overflow, overflow)]
            overflow += 1
        for start, end in spans:
            key = (label, start, end)
            if key not in seen:
                seen.add(key)
                result.spans.append({"type": label, "start": start, "end": end})
    return result


def evaluate_spans(gold: list[list[Span]], pred: list[list[Span]], types: list[str]) -> dict[str, Any]:
    """nervaluate results: ``{"overall": {scheme: {...}}, "types": {type: {scheme: {...}}}}``."""
    from nervaluate import Evaluator

    def conv(doc: list[Span]) -> list[dict[str, Any]]:
        return [{"label": s["type"], "start": int(s["start"]), "end": int(s["end"])} for s in doc]

    true_docs = [conv(d) for d in gold]
    pred_docs = [canonical_order(conv(p), t) for p, t in zip(pred, true_docs, strict=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = Evaluator(true_docs, pred_docs, tags=list(types), loader="dict").evaluate()

    def as_dict(r: Any) -> dict[str, Any]:
        keys = (
            "correct",
            "incorrect",
            "partial",
            "missed",
            "spurious",
            "possible",
            "actual",
            "precision",
            "recall",
            "f1",
        )
        return {k: getattr(r, k) for k in keys}

    per_doc = {
        scheme: _per_doc_counts(res["overall_indices"][scheme], len(gold)) for scheme in ("strict", "partial")
    }
    return {
        "overall": {scheme: as_dict(r) for scheme, r in res["overall"].items()},
        "types": {t: {scheme: as_dict(r) for scheme, r in res["entities"].get(t, {}).items()} for t in types},
        "per_doc": per_doc,
    }


def canonical_order(pred: list[dict[str, Any]], true: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Predictions exact in boundaries and type first, then exact in boundaries, then the rest.

    A gold entity is matched once; the prediction that matches it best must get it, whatever
    position the model listed it in. Ties are broken by position so the order is total.
    """
    exact = {(e["label"], e["start"], e["end"]) for e in true}
    bounds = {(e["start"], e["end"]) for e in true}

    def key(e: dict[str, Any]) -> tuple[int, int, int, str]:
        rank = (
            0 if (e["label"], e["start"], e["end"]) in exact else 1 if (e["start"], e["end"]) in bounds else 2
        )
        return (rank, e["start"], e["end"], e["label"])

    return sorted(pred, key=key)


def _per_doc_counts(indices: Any, n_docs: int) -> list[list[int]]:
    """Per sentence [correct, partial, actual, possible] from nervaluate's own index lists."""
    counts = [[0, 0, 0, 0] for _ in range(n_docs)]
    for attr, cols in (
        ("correct_indices", (0, 2, 3)),
        ("partial_indices", (1, 2, 3)),
        ("incorrect_indices", (2, 3)),
        ("spurious_indices", (2,)),
        ("missed_indices", (3,)),
    ):
        for doc, _ent in getattr(indices, attr):
            for c in cols:
                counts[doc][c] += 1
    return counts


def _f1(correct: float, partial: float, actual: float, possible: float) -> float:
    p = (correct + 0.5 * partial) / actual if actual else 0.0
    r = (correct + 0.5 * partial) / possible if possible else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def f1_with_ci(per_doc: list[list[int]], *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Micro F1 with a 95% percentile bootstrap over sentences (F1 is a ratio of sums, not a mean).

    The rows are sorted first: resampling indices into rows kept in completion order would give
    a different interval for the same sentences stored in another order.
    """
    import numpy as np

    counts = np.asarray(sorted(map(list, per_doc)), dtype=float).reshape(-1, 4)
    n = len(counts)
    value = _f1(*counts.sum(axis=0)) if n else float("nan")
    if n < 2:
        return {"value": value, "ci_low": value, "ci_high": value, "n": n, "ci_method": "none"}
    rng = np.random.default_rng(seed)
    sums = counts[rng.integers(0, n, size=(n_boot, n))].sum(axis=1)
    boots = sorted(_f1(*row) for row in sums)
    lo = boots[int(np.floor(0.025 * (n_boot - 1)))]
    hi = boots[int(np.ceil(0.975 * (n_boot - 1)))]
    return {"value": value, "ci_low": lo, "ci_high": hi, "n": n, "ci_method": "bootstrap-sentences"}
