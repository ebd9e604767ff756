"""A transparent string/synonym baseline for "is this the same diagnosis?", next to the judge.

Every match names the rule that fired, so a reader can audit it: ``exact`` (after
normalisation), ``synonym`` (a small hand-written table of common equivalent names), ``acronym``
(one side is the initials of the other, or the parenthesised abbreviation in the reference),
``contains`` (every content word of the reference appears in the prediction: a more specific
form of the same disease). Anything else is ``none``. It under-counts paraphrases by design;
the judge is the primary grader and the baseline shows how much the judge adds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Equivalent names (normalised); each group maps to its first entry.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("myocardial infarction", "heart attack", "mi"),
    ("non st elevation myocardial infarction", "nstemi"),
    ("st elevation myocardial infarction", "stemi"),
    ("cerebrovascular accident", "stroke", "cva"),
    ("pulmonary embolism", "pe"),
    ("deep vein thrombosis", "deep venous thrombosis", "dvt"),
    ("tuberculosis", "tb"),
    ("systemic lupus erythematosus", "lupus", "sle"),
    ("human immunodeficiency virus infection", "hiv infection", "hiv"),
    ("acquired immunodeficiency syndrome", "aids"),
    ("chronic obstructive pulmonary disease", "copd"),
    ("congestive heart failure", "heart failure", "chf"),
    ("diabetic ketoacidosis", "dka"),
    ("urinary tract infection", "uti"),
    ("acute kidney injury", "acute renal failure", "aki"),
    ("chronic kidney disease", "ckd"),
    ("multiple sclerosis", "ms"),
    ("amyotrophic lateral sclerosis", "als", "lou gehrig disease"),
    ("rheumatoid arthritis", "ra"),
    ("inflammatory bowel disease", "ibd"),
    ("gastroesophageal reflux disease", "gerd", "reflux disease"),
    ("hepatocellular carcinoma", "hcc", "liver cell carcinoma"),
    ("renal cell carcinoma", "rcc"),
    ("acute myeloid leukemia", "acute myelogenous leukemia", "aml"),
    ("acute lymphoblastic leukemia", "acute lymphocytic leukemia", "all"),
    ("chronic lymphocytic leukemia", "cll"),
    ("chronic myeloid leukemia", "chronic myelogenous leukemia", "cml"),
    ("non hodgkin lymphoma", "nhl"),
    ("diffuse large b cell lymphoma", "dlbcl"),
    ("idiopathic thrombocytopenic purpura", "immune thrombocytopenia", "itp"),
    ("thrombotic thrombocytopenic purpura", "ttp"),
    ("hemolytic uremic syndrome", "hus"),
    ("disseminated intravascular coagulation", "dic"),
    ("posterior reversible encephalopathy syndrome", "pres"),
    ("guillain barre syndrome", "gbs"),
    ("kawasaki disease", "mucocutaneous lymph node syndrome"),
    ("takotsubo cardiomyopathy", "stress cardiomyopathy", "broken heart syndrome"),
)
_SYN: dict[str, str] = {name: group[0] for group in SYNONYM_GROUPS for name in group}
#: Words that do not change which disease is named.
_STOP = frozenset({"the", "a", "an", "of", "with", "and", "in", "to", "due", "by", "on", "for", "or", "type"})
_GENERIC = frozenset(
    {"disease", "syndrome", "disorder", "condition", "infection", "acute", "chronic", "primary"}
)


@dataclass(frozen=True)
class Match:
    match: bool
    rule: str


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"'s\b", "", t)
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return " ".join(w for w in t.split() if w not in _STOP)


def _forms(text: str) -> set[str]:
    """The normalised text, without its parentheses, and each parenthesised abbreviation."""
    out = {normalise(text)}
    bare = re.sub(r"\([^)]*\)", " ", text)
    out.add(normalise(bare))
    out.update(normalise(p) for p in re.findall(r"\(([^)]*)\)", text))
    return {f for f in out if f}


def _initials(form: str) -> str:
    return "".join(w[0] for w in form.split())


def match_diagnosis(prediction: str, reference: str) -> Match:
    pred, ref = _forms(prediction), _forms(reference)
    if not pred:
        return Match(False, "empty")
    if pred & ref:
        return Match(True, "exact")
    if {_SYN.get(p, p) for p in pred} & {_SYN.get(r, r) for r in ref}:
        return Match(True, "synonym")
    for p in pred:
        for r in ref:
            if (len(p) >= 2 and " " not in p and len(r.split()) >= 2 and p == _initials(r)) or (
                len(r) >= 2 and " " not in r and len(p.split()) >= 2 and r == _initials(p)
            ):
                return Match(True, "acronym")
    pred_words = set().union(*(p.split() for p in pred))
    for r in ref:
        content = [w for w in r.split() if w not in _GENERIC]
        if content and (len(content) >= 2 or len(content[0]) >= 4) and all(w in pred_words for w in content):
            return Match(True, "contains")
    return Match(False, "none")
