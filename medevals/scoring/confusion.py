"""Paired-image scoring as MediConfusion defines it (Sepehri et al. 2024; AIF4S/MediConfusion).

A confusing pair is two images with the same question and options but different correct
answers. Per pair:

- **set accuracy**: both images answered correctly;
- **confusion**: both answers valid and the same option (a model that ignores the image is
  confused on every pair);
- **individual accuracy**: correct answers / (2 x pairs).

Over a run, set and individual accuracy divide by all pairs; confusion divides by the pairs whose
two answers are both valid, as upstream's ``print_score`` does (``confused / valids``). Per
category, upstream counts a pair once for every category each of its images carries
(``cat_1 + cat_2``, so a category both images share counts twice) and divides by the same
multiplicity (``statistics.json``); ``category_table`` reproduces that weighting.

``upstream_letter`` is the reading of a reply in upstream's multiple-choice mode
(``clean_up_manual``): the reply is split on spaces and a letter counts when one of a fixed set of
tokens ("A", "A:", "A.", ".A", '("A")' ...) appears; a reply naming both letters, or neither, is
invalid. It is stricter than ``scoring.extract.extract_choice`` ("(A)" and "**A**" are invalid).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def _forms(label: str) -> set[str]:
    return {
        label,
        f"{label}:",
        f".{label}",
        f".{label}:",
        f"{label}.",
        f'{label}")',
        f"{label}\n",
        f"\n{label}",
        f'("{label}":',
        f'("{label}")',
        f'("{label}").',
    }


def upstream_letter(reply: str | None, labels: Sequence[str] = ("A", "B")) -> str | None:
    """MediConfusion's MC-mode reading: the one label whose token form appears, else None (invalid)."""
    if reply is None:
        return None
    tokens = set(reply.replace("\n", " ").split(" "))
    found = [la for la in labels if tokens & _forms(la)]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class PairOutcome:
    answers: tuple[str | None, ...]
    correct: tuple[bool, ...]

    @property
    def valid(self) -> bool:
        return all(a is not None for a in self.answers)

    @property
    def set_correct(self) -> bool:
        return all(self.correct)

    @property
    def confused(self) -> bool:
        return self.valid and len(set(self.answers)) == 1

    @property
    def individual(self) -> float:
        return sum(self.correct) / len(self.correct)


def pair_outcome(answers: Sequence[str | None], targets: Sequence[str]) -> PairOutcome:
    if len(answers) != len(targets):
        raise ValueError(f"{len(answers)} answers for {len(targets)} images")
    return PairOutcome(
        tuple(answers), tuple(a is not None and a == t for a, t in zip(answers, targets, strict=True))
    )


@dataclass
class _Counts:
    weight: float = 0.0  # pairs, counted with their category multiplicity
    images: float = 0.0  # images carrying the category
    set_correct: float = 0.0
    individual: float = 0.0
    invalid: float = 0.0
    valid_pairs: float = 0.0
    confused: float = 0.0


def category_table(
    rows: Iterable[tuple[PairOutcome, Sequence[Sequence[str]]]],
) -> dict[str, dict[str, float]]:
    """Upstream's per-category scores from (outcome, categories of each image) per pair, plus ``total``.

    Keys per category: ``n`` (multiplicity-weighted pairs), ``set_accuracy``, ``individual_accuracy``,
    ``confusion`` (over valid pairs; NaN without any), ``invalid`` (share of images), ``valid_pairs``.
    """
    counts: dict[str, _Counts] = defaultdict(_Counts)
    for out, cats in rows:
        pair_cats = [c for image_cats in cats for c in image_cats]
        for key, mult in [*((c, 1.0) for c in pair_cats), ("total", 1.0)]:
            k = counts[key]
            k.weight += mult
            k.set_correct += mult * out.set_correct
            if out.valid:
                k.valid_pairs += mult
                k.confused += mult * out.confused
        for image_cats, ok, answer in zip(cats, out.correct, out.answers, strict=True):
            for key in [*image_cats, "total"]:
                k = counts[key]
                k.images += 1
                k.individual += ok
                k.invalid += answer is None
    table: dict[str, dict[str, float]] = {}
    for key, k in counts.items():
        table[key] = {
            "n": k.weight,
            "set_accuracy": k.set_correct / k.weight if k.weight else float("nan"),
            "individual_accuracy": k.individual / k.images if k.images else float("nan"),
            "confusion": k.confused / k.valid_pairs if k.valid_pairs else float("nan"),
            "invalid": k.invalid / k.images if k.images else float("nan"),
            "valid_pairs": k.valid_pairs,
        }
    return table
