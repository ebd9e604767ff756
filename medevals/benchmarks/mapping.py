"""Row -> Item helpers shared by benchmark modules (validation lives here once)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from medevals.errors import DataError
from medevals.schema import Item, ItemImage

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

PLACEHOLDER_OPTIONS = {"", "n/a", "na", "none"}


def as_text(value: Any, *, where: Path | str, line: int, field: str, numbers: bool = False) -> str:
    """``value`` as item text, or a DataError naming file, line and field.

    A list, an object or a boolean is never turned into text with ``str()`` (a question reading
    "['Which', 'drug']" or an id "{'x': 1}" would be scored as if it were data). With
    ``numbers``, a finite int or float is accepted (an option "5" mg); NaN/inf never are.
    """
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise DataError(f"expected text, got the number {value}", path=where, line=line, field=field)
        return str(value)
    kind = (
        "a number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
    )
    if isinstance(value, float) and not math.isfinite(value):
        kind = f"the number {value}"
    expected = "text or a number" if numbers else "text"
    raise DataError(f"expected {expected}, got {kind}", path=where, line=line, field=field)


def as_id(value: Any, *, where: Path | str, line: int, field: str = "id") -> str:
    """An item id: text or an integer (a float, NaN, list or object is an error)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = as_text(value, where=where, line=line, field=field)
    if not text.strip():
        raise DataError("empty", path=where, line=line, field=field)
    return text


def mcq_item(
    *,
    id: str,
    question: str,
    choices: dict[str, str],
    answer: str,
    where: Path | str,
    line: int,
    answer_field: str = "answer",
    subset: str | None = None,
    context: str | None = None,
    metadata: dict[str, Any] | None = None,
    drop_placeholders: bool = False,
    images: list[ItemImage] | None = None,
) -> Item:
    """Build a multiple-choice Item, checking the answer key names one of the options.

    Types are checked, never coerced: the question is text, the id text or an integer, each
    option text or a finite number, the answer key text or an integer.
    """
    item_id = as_id(id, where=where, line=line)
    question = as_text(question, where=where, line=line, field="question")
    if not question.strip():
        raise DataError("empty question", path=where, line=line, field="question")
    if isinstance(answer, bool) or not isinstance(answer, str | int):
        answer = as_text(answer, where=where, line=line, field=answer_field)
    clean: dict[str, str] = {}
    for k, v in choices.items():
        text = (
            ""
            if v is None
            else as_text(v, where=where, line=line, field=f"options.{k}", numbers=True).strip()
        )
        if drop_placeholders and text.lower() in PLACEHOLDER_OPTIONS and k != answer:
            continue
        if not text:
            raise DataError(f"option {k} is empty", path=where, line=line, field=f"options.{k}")
        clean[str(k).strip().upper()] = text
    if len(clean) < 2:
        raise DataError(
            f"needs at least 2 options, found {len(clean)}", path=where, line=line, field="options"
        )
    key = str(answer).strip().upper()
    if key not in clean:
        raise DataError(
            f"answer key '{answer}' is not among the options ({', '.join(clean)})",
            path=where,
            line=line,
            field=answer_field,
        )
    return Item(
        id=item_id,
        input=question.strip(),
        choices=clean,
        target=key,
        subset=subset,
        context=context,
        metadata=metadata or {},
        images=images or [],
    )


def letters_for(n: int) -> list[str]:
    return list(LETTERS[:n])


def mcq_set_item(
    *,
    id: str,
    question: str,
    choices: dict[str, str],
    answers: list[str],
    where: Path | str,
    line: int,
    answer_field: str = "answer",
    n_select: int | None = None,
    subset: str | None = None,
    context: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Item:
    """A multiple-choice item that admits several correct options: its target is the list of
    correct letters (in option order), ``metadata["multi_answer"]`` marks it, and ``n_select`` is
    the number of options to pick *when the item itself states it* ("2つ選べ"; never the key's
    count otherwise, which would leak the answer)."""
    if not answers:
        raise DataError("no correct option given", path=where, line=line, field=answer_field)
    keys = [str(a).strip().upper() for a in answers]
    if len(set(keys)) != len(keys):
        raise DataError(f"answer key {answers} repeats an option", path=where, line=line, field=answer_field)
    item = mcq_item(
        id=id,
        question=question,
        choices=choices,
        answer=keys[0],
        where=where,
        line=line,
        answer_field=answer_field,
        subset=subset,
        context=context,
        metadata=metadata,
    )
    assert item.choices is not None
    missing = [k for k in keys if k not in item.choices]
    if missing:
        raise DataError(
            f"answer key '{missing[0]}' is not among the options ({', '.join(item.choices)})",
            path=where,
            line=line,
            field=answer_field,
        )
    item.target = [k for k in item.choices if k in keys]
    item.metadata["multi_answer"] = True
    if n_select is not None:
        item.metadata["n_select"] = n_select
    return item
