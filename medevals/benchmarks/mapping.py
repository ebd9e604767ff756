"""Row -> Item helpers shared by benchmark modules (validation lives here once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medevals.errors import DataError
from medevals.schema import Item, ItemImage

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

PLACEHOLDER_OPTIONS = {"", "n/a", "na", "none"}


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
    """Build a multiple-choice Item, checking the answer key names one of the options."""
    if not question or not str(question).strip():
        raise DataError("empty question", path=where, line=line, field="question")
    clean: dict[str, str] = {}
    for k, v in choices.items():
        text = "" if v is None else str(v).strip()
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
        id=str(id),
        input=str(question).strip(),
        choices=clean,
        target=key,
        subset=subset,
        context=context,
        metadata=metadata or {},
        images=images or [],
    )


def letters_for(n: int) -> list[str]:
    return list(LETTERS[:n])
