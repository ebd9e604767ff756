"""Reordering the options of a multiple-choice item and mapping answers back to the original letters.

An *order* lists original letters in displayed order: displayed letter ``letters[i]`` shows the
text of original option ``order[i]``. Position-bias probes use cyclic shifts; the
choice-shuffle ensemble and the option-order perturbation use seeded random orders. Scoring
always maps a displayed answer back to the original letter, so votes across orders agree on
content, never on position.
"""

from __future__ import annotations

import random
from typing import Any

from medevals.schema import Item


def cyclic_order(letters: list[str], shift: int) -> list[str]:
    """``shift`` positions to the left: shift 1 shows option B's text as A, C's as B, ..., A's last."""
    s = shift % len(letters)
    return letters[s:] + letters[:s]


def random_order(letters: list[str], rng: random.Random, *, not_identity: bool = False) -> list[str]:
    """A random order; with ``not_identity`` it differs from the original whenever that is possible."""
    order = list(letters)
    for _ in range(20):
        rng.shuffle(order)
        if not not_identity or order != letters or len(letters) < 2:
            break
    if not_identity and order == letters and len(letters) > 1:
        order = cyclic_order(letters, 1)
    return order


def reorder(item: Item, order: list[str]) -> Item:
    """The item with its options shown in ``order`` (its target re-lettered to match)."""
    assert item.choices is not None
    letters = list(item.choices)
    if sorted(order) != sorted(letters):
        raise ValueError(f"order {order} is not a permutation of {letters}")
    choices = {letters[i]: item.choices[orig] for i, orig in enumerate(order)}
    target = item.target
    if isinstance(target, list) and all(t in letters for t in target):  # an answer set
        target = sorted((to_displayed(t, order, letters) for t in target), key=letters.index)
    elif isinstance(target, str) and target in letters:
        target = to_displayed(target, order, letters)
    return item.model_copy(update={"choices": choices, "target": target})


def to_original(answer: str | None, order: list[str], letters: list[str]) -> str | None:
    """Displayed letter -> the original letter whose text was shown there."""
    if answer is None or answer not in letters:
        return None
    return order[letters.index(answer)]


def answer_to_original(answer: str | list[str] | None, order: list[str], letters: list[str]) -> Any:
    """``to_original`` for a letter or an answer set (each letter mapped; the set in option order)."""
    if isinstance(answer, list):
        mapped = [to_original(a, order, letters) for a in answer]
        if any(m is None for m in mapped):
            return None
        return sorted(mapped, key=letters.index)  # type: ignore[arg-type]
    return to_original(answer, order, letters)


def to_displayed(original: str, order: list[str], letters: list[str]) -> str:
    """Original letter -> the letter it was shown under."""
    return letters[order.index(original)]
