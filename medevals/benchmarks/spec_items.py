"""A custom spec's ``fields`` per protocol, and how one record becomes that protocol's ``Item``.

Each protocol has its own field map (a pydantic model: an unknown or missing field is a spec
error naming its line); the mapping functions read a record with ``spec_rows`` (dotted paths,
``join``) and build the item the protocol's docstring describes. Every data problem is a
``DataError`` naming the data file, the record's line and the field. The reference material
(answers, references, rubrics, gold spans) goes to ``target``/``metadata`` only: the model sees
the question / input / case / prompt / sentence / query / text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from medevals.benchmarks.mapping import LETTERS, as_id, as_text, mcq_item
from medevals.benchmarks.spec_rows import Record, get, text, texts
from medevals.errors import DataError
from medevals.schema import Item, ItemImage

AnswerFormat = Literal["letter", "index0", "index1", "text", "true-false"]


class _Fields(BaseModel):
    # built on first use: a spec uses one protocol's fields, every run imports all of them
    model_config = ConfigDict(extra="forbid", defer_build=True)
    id: str | None = None
    subset: str | None = None


class MCQFields(_Fields):
    question: str
    #: A field holding an object, a list, a list of ``{letter, text}`` objects, or a list of
    #: columns [opa, opb, ...]; absent only with ``answer_format: true-false``.
    options: str | list[str] | None = None
    answer: str
    context: str | None = None
    images: str | None = None


class FreeTextFields(_Fields):
    input: str
    reference: str | None = None
    statements: str | None = None
    reference_set: str | None = None
    usage_policy: str | None = None
    harm_rubric: str | None = None
    #: ``{name: field}``: labels copied to item metadata (for ``--set breakdown=name``).
    metadata: dict[str, str] = {}


class DiagnosisFields(_Fields):
    case: str
    diagnosis: str


class RubricFields(_Fields):
    prompt: str
    rubrics: str
    example_tags: str | None = None


class NERFields(_Fields):
    tokens: str | None = None
    tags: str | None = None


class RetrievalFields(_Fields):
    query: str | None = None
    relevant: str | None = None


class ErrorDetectionFields(_Fields):
    text: str
    flag: str | None = None
    sentence_id: str | None = None
    error_sentence: str | None = None
    correction: str | None = None


class LongDocFields(MCQFields):
    """A multiple-choice question over documents (LongHealth style, ``protocol: longdoc``)."""

    #: The row's documents: a list of strings or of ``{id, text, title}`` objects. The corpus
    #: (distractors) is every row's documents; a row's own documents are never its distractors.
    documents: str
    #: Which of the row's documents hold the answer (their ids; a string document by its
    #: position, 1-based); default: all of them.
    answer_docs: str | None = None


class StepFields(_Fields):
    """A reasoning chain to verify (``protocol: step-verify``, MedPRMBench / ProcessBench style)."""

    question: str
    #: The chain: a list of step texts (or one text, a step per line).
    steps: str
    #: The first wrong step, 1-based; 0, -1, "none", empty or missing: a clean chain.
    first_error: str
    context: str | None = None
    error_type: str | None = None


class PairwiseFields(_Fields):
    """One record = one pair (items mode: the model under test says which is more X)."""

    a_text: str
    b_text: str
    #: The items' own ids: the same id in several pairs is the same item (Bradley-Terry strengths,
    #: reference order); without them an item's text is its id.
    a_id: str | None = None
    b_id: str | None = None
    #: The reference: ``preferred`` (a / b / tie, or 1 / 2 / 0) and/or both items' scores.
    preferred: str | None = None
    a_score: str | None = None
    b_score: str | None = None
    question: str | None = None
    criterion: str | None = None


FIELD_MAPS: dict[str, type[_Fields]] = {
    "mcq": MCQFields,
    "freetext": FreeTextFields,
    "open-diagnosis": DiagnosisFields,
    "rubric": RubricFields,
    "ner": NERFields,
    "retrieval": RetrievalFields,
    "error-detection": ErrorDetectionFields,
    "pairwise": PairwiseFields,
    "longdoc": LongDocFields,
    "step-verify": StepFields,
}


def item_id(f: _Fields, rec: Record, path: Path) -> str:
    if f.id is None:
        return rec.default_id
    return as_id(get(rec, f.id, path), where=path, line=rec.line, field=f.id)


# --------------------------------------------------------------------------- multiple choice

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _option_list(value: Any, path: Path, rec: Record, field: str) -> list[tuple[str, Any]]:
    """(key, option) pairs in the data's order; keys are the data's letters, digits, or positions."""
    if isinstance(value, dict):
        label = next((k for k in ("letter", "label") if k in value), None)
        if label and set(value) == {label, "text"} and isinstance(value["text"], list):
            letters = value[label]  # parallel lists: {"label": ["A", ...], "text": [...]}
            if not isinstance(letters, list) or len(letters) != len(value["text"]):
                raise DataError(
                    f"'{label}' and 'text' must be lists of the same length",
                    path=path,
                    line=rec.line,
                    field=field,
                )
            return [
                (as_text(k, where=path, line=rec.line, field=f"{field}.{label}.{i}"), v)
                for i, (k, v) in enumerate(zip(letters, value["text"], strict=True))
            ]
        keys = [str(k).strip() for k in value]
        if keys and all(k.isdigit() for k in keys):  # "1".."5": numeric order, lettered A..
            return sorted(((str(k).strip(), v) for k, v in value.items()), key=lambda kv: int(kv[0]))
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            out = []
            for i, v in enumerate(value):
                label = next((k for k in ("letter", "label") if k in v), None)
                if label is None or "text" not in v:
                    raise DataError(
                        "expected an option object {letter, text}",
                        path=path,
                        line=rec.line,
                        field=f"{field}.{i}",
                    )
                out.append(
                    (as_text(v[label], where=path, line=rec.line, field=f"{field}.{i}.{label}"), v["text"])
                )
            return out
        if len(value) > len(LETTERS):
            raise DataError(
                f"{len(value)} options (at most {len(LETTERS)})", path=path, line=rec.line, field=field
            )
        return [(LETTERS[i], v) for i, v in enumerate(value)]
    raise DataError("options must be an object or a list", path=path, line=rec.line, field=field)


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def mcq(
    f: MCQFields,
    rec: Record,
    path: Path,
    *,
    answer_format: AnswerFormat,
    drop_empty: bool,
    fixed: list[str] | None,
    join: dict[str, str],
    language: str | None,
) -> Item:
    if answer_format == "true-false":
        pairs: list[tuple[str, Any]] = [("A", "True"), ("B", "False")]
        keyed = {"A": "A", "B": "B"}
    elif fixed is not None:
        pairs = [(LETTERS[i], v) for i, v in enumerate(fixed)]
        keyed = {k: k for k, _ in pairs}
    else:
        assert f.options is not None
        if isinstance(f.options, list):
            pairs = [
                (LETTERS[i], get(rec, col, path, required=not drop_empty)) for i, col in enumerate(f.options)
            ]
        else:
            pairs = _option_list(get(rec, f.options, path), path, rec, f.options)
        # the data's own keys ("1".."5", a letter) -> the letter shown to the model
        keyed = {}
        for i, (k, _v) in enumerate(pairs):
            keyed[k] = k.upper() if len(k) == 1 and k.isalpha() else LETTERS[i]
    ans = get(rec, f.answer, path)
    fmt = answer_format
    try:
        if fmt == "true-false":
            word = (
                str(ans).strip().lower() if isinstance(ans, str | int) and not isinstance(ans, bool) else None
            )
            if ans is True or word in _TRUE:
                letter = "A"
            elif ans is False or word in _FALSE:
                letter = "B"
            else:
                raise ValueError
        elif fmt in ("index0", "index1"):
            # an integer or digits only: int(1.7) == 1 and int(True) == 1 would credit a wrong key
            if (
                isinstance(ans, bool)
                or not isinstance(ans, int | str)
                or (isinstance(ans, str) and not ans.strip().lstrip("-").isdigit())
            ):
                raise ValueError
            idx = int(ans) - (1 if fmt == "index1" else 0)
            if not 0 <= idx < len(pairs):
                raise IndexError
            letter = keyed[pairs[idx][0]]
        elif fmt == "text":
            want = as_text(ans, where=path, line=rec.line, field=f.answer, numbers=True).strip()
            matches = [k for k, v in pairs if isinstance(v, str | int | float) and str(v).strip() == want]
            if len(matches) != 1:
                raise DataError(
                    f"answer text '{want}' matches {len(matches)} options",
                    path=path,
                    line=rec.line,
                    field=f.answer,
                )
            letter = keyed[matches[0]]
        else:  # letter: the data's own key ("3" of options keyed "1".."5") or a letter
            if isinstance(ans, bool) or not isinstance(ans, str | int):
                ans = as_text(ans, where=path, line=rec.line, field=f.answer)
            key = str(ans).strip()
            letter = keyed.get(key, key.upper())
    except (ValueError, IndexError):
        raise DataError(
            f"answer '{ans}' is not a valid {fmt} for {len(pairs)} options",
            path=path,
            line=rec.line,
            field=f.answer,
        ) from None
    choices = {keyed[k]: v for k, v in pairs}
    if drop_empty:
        if letter in choices and _is_empty(choices[letter]):
            raise DataError(
                f"the answer names option {letter}, which is empty", path=path, line=rec.line, field=f.answer
            )
        choices = {k: v for k, v in choices.items() if not _is_empty(v)}
    item = mcq_item(
        id=item_id(f, rec, path),
        question=text(rec, f.question, path, join=join.get("question")),  # type: ignore[arg-type]
        choices=choices,
        answer=letter,
        answer_field=f.answer,
        where=path,
        line=rec.line,
        context=text(rec, f.context, path, join=join.get("context")) if f.context else None,
        subset=text(rec, f.subset, path, numbers=True) if f.subset else None,
        images=images(rec, f.images, path) if f.images else None,
    )
    if language and language != "en":
        item.metadata["language"] = language
    return item


def images(rec: Record, field: str, path: Path) -> list[ItemImage]:
    """A path (relative to the data file's folder), an http(s) URL, or a list of them, in order."""
    raw = get(rec, field, path)
    values = raw if isinstance(raw, list) else [raw]
    out: list[ItemImage] = []
    for i, v in enumerate(values):
        where = field if len(values) == 1 else f"{field}[{i}]"
        if not isinstance(v, str) or not v.strip():
            raise DataError("an image must be a non-empty path or URL", path=path, line=rec.line, field=where)
        v = v.strip()
        if v.startswith(("http://", "https://")):
            out.append(ItemImage(url=v))
            continue
        p = (path.parent / v).resolve()
        if not p.is_file():
            raise DataError(f"image file '{p}' not found", path=path, line=rec.line, field=where)
        out.append(ItemImage(path=str(p)))
    if not out:
        raise DataError("no image given", path=path, line=rec.line, field=field)
    return out


# --------------------------------------------------------------------------- free text, diagnosis, rubric


def conversation_or_text(rec: Record, field: str, path: Path, join: str | None) -> str | list[dict[str, str]]:
    """A text, or a conversation given as a list of {role, content} messages."""
    from medevals.benchmarks.judged_sets import messages

    value = get(rec, field, path)
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        return messages(value, path, rec.line, field)
    out = text(rec, field, path, join=join)
    assert out is not None
    if not out.strip():
        raise DataError("empty", path=path, line=rec.line, field=field)
    return out


def freetext(
    f: FreeTextFields, rec: Record, path: Path, *, join: dict[str, str], language: str | None
) -> Item:
    from medevals.scoring.statements import parse_list, split_statements

    meta: dict[str, Any] = {}
    if f.statements:
        v = get(rec, f.statements, path)
        meta["statements"] = split_statements(v) if isinstance(v, str) else texts(rec, f.statements, path)
    if f.reference_set:
        v = get(rec, f.reference_set, path)
        meta["reference_set"] = parse_list(v) if isinstance(v, str) else texts(rec, f.reference_set, path)
    judge_fields = {
        name: text(rec, field, path, join=join.get(role))
        for role, name, field in (
            ("usage_policy", "usage_policy", f.usage_policy),
            ("harm_rubric", "rubric", f.harm_rubric),
        )
        if field
    }
    if judge_fields:
        meta["judge_fields"] = judge_fields
    for name, field in f.metadata.items():  # labels for per-group tables: a text or a list of texts
        v = get(rec, field, path)
        meta[name] = (
            texts(rec, field, path)
            if isinstance(v, list)
            else as_text(v, where=path, line=rec.line, field=field, numbers=True)
        )
    if language and language != "en":
        meta["language"] = language
    return Item(
        id=item_id(f, rec, path),
        input=conversation_or_text(rec, f.input, path, join.get("input")),
        target=text(rec, f.reference, path, join=join.get("reference")) if f.reference else None,
        subset=text(rec, f.subset, path, numbers=True) if f.subset else None,
        metadata=meta,
    )


def diagnosis(
    f: DiagnosisFields, rec: Record, path: Path, *, join: dict[str, str], language: str | None
) -> Item:
    case = text(rec, f.case, path, join=join.get("case"))
    dx = text(rec, f.diagnosis, path, join=join.get("diagnosis"))
    assert case is not None and dx is not None
    for field, value in ((f.case, case), (f.diagnosis, dx)):
        if not value.strip():
            raise DataError("empty", path=path, line=rec.line, field=field)
    return Item(
        id=item_id(f, rec, path),
        input=case,
        target=dx.strip(),
        subset=text(rec, f.subset, path, numbers=True) if f.subset else None,
        metadata={"language": language} if language and language != "en" else {},
    )


def rubric(f: RubricFields, rec: Record, path: Path, *, join: dict[str, str], language: str | None) -> Item:
    from medevals.benchmarks.judged_sets import parse_rubrics

    prompt = conversation_or_text(rec, f.prompt, path, join.get("prompt"))
    tags = texts(rec, f.example_tags, path, required=False) if f.example_tags else None
    meta: dict[str, Any] = {"example_tags": tags or []}
    if language and language != "en":
        meta["language"] = language
    return Item(
        id=item_id(f, rec, path),
        input=prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}],
        target=parse_rubrics(get(rec, f.rubrics, path), path, rec.line, field=f.rubrics, require_tags=False),
        subset=text(rec, f.subset, path, numbers=True) if f.subset else None,
        metadata=meta,
    )


# --------------------------------------------------------------------------- NER

_TAG = re.compile(r"^(O|[BI]-\S.*)$")


def ner(
    f: NERFields,
    rec: Record,
    path: Path,
    *,
    tag_names: list[str] | None,
    types: list[str],
    language: str | None,
) -> Item:
    from medevals.benchmarks.ner_sets import iob_spans

    assert f.tokens is not None and f.tags is not None
    raw = get(rec, f.tokens, path)
    tokens = raw.split() if isinstance(raw, str) else (texts(rec, f.tokens, path) or [])
    if not tokens:
        raise DataError("no tokens", path=path, line=rec.line, field=f.tokens)
    raw_tags = get(rec, f.tags, path)
    if not isinstance(raw_tags, list):
        raise DataError(
            f"expected a list of tags, got {type(raw_tags).__name__}", path=path, line=rec.line, field=f.tags
        )
    if len(raw_tags) != len(tokens):
        raise DataError(
            f"{len(raw_tags)} tags for {len(tokens)} tokens", path=path, line=rec.line, field=f.tags
        )
    tags: list[str] = []
    for i, t in enumerate(raw_tags):
        where = f"{f.tags}.{i}"
        if isinstance(t, int) and not isinstance(t, bool):
            if tag_names is None:
                raise DataError(
                    "a numeric tag needs tag_names in the spec", path=path, line=rec.line, field=where
                )
            if not 0 <= t < len(tag_names):
                raise DataError(
                    f"tag {t} is not an index of tag_names", path=path, line=rec.line, field=where
                )
            t = tag_names[t]
        if not isinstance(t, str) or not _TAG.match(t.strip()):
            raise DataError(f"tag {t!r} is not O, B-TYPE or I-TYPE", path=path, line=rec.line, field=where)
        label = t.strip().partition("-")[2]
        if label and label not in types:
            raise DataError(
                f"tag type '{label}' is not in options.types ({', '.join(types)})",
                path=path,
                line=rec.line,
                field=where,
            )
        tags.append(t.strip())
    meta: dict[str, Any] = {"tokens": tokens}
    if language and language != "en":
        meta["language"] = language
    return Item(
        id=item_id(f, rec, path),
        input=" ".join(tokens),
        target=iob_spans(tags, path, rec.line),
        subset=text(rec, f.subset, path, numbers=True) if f.subset else None,
        metadata=meta,
    )


# --------------------------------------------------------------------------- error detection


def _int(value: Any, rec: Record, path: Path, field: str) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
    ):
        raise DataError(f"expected an integer, got {value!r}", path=path, line=rec.line, field=field)
    return int(value)


def error_detection(
    f: ErrorDetectionFields, rec: Record, path: Path, *, join: dict[str, str], language: str | None
) -> Item:
    raw = get(rec, f.text, path)
    sentences: list[str] | None = None
    if isinstance(raw, list):  # a list of sentences: numbered from 0, one per line (MEDEC's layout)
        sentences = texts(rec, f.text, path) or []
        body = "\n".join(f"{i} {s}" for i, s in enumerate(sentences))
    else:
        body = text(rec, f.text, path) or ""
    if not body.strip():
        raise DataError("empty", path=path, line=rec.line, field=f.text)
    sid = -1
    if f.sentence_id:
        v = get(rec, f.sentence_id, path, required=False)
        sid = -1 if v is None else _int(v, rec, path, f.sentence_id)
    if f.flag:
        v = get(rec, f.flag, path)
        if v is True or v is False:
            flag = int(v)
        else:
            flag = _int(v, rec, path, f.flag)
            if flag not in (0, 1):
                raise DataError(f"expected 0 or 1, got {v!r}", path=path, line=rec.line, field=f.flag)
    elif f.sentence_id:
        flag = int(sid >= 0)
    else:
        raise DataError("give a flag or a sentence_id field", path=path, line=rec.line, field="fields")
    if flag and sid < 0:
        raise DataError(
            "flagged text without an error sentence id",
            path=path,
            line=rec.line,
            field=f.sentence_id or f.flag,
        )
    if sentences is not None and flag and sid >= len(sentences):
        raise DataError(f"sentence {sid} of {len(sentences)}", path=path, line=rec.line, field=f.sentence_id)
    correction = ""
    error_sentence = ""
    if flag:
        if not f.correction:
            raise DataError(
                "a flagged text needs a correction field", path=path, line=rec.line, field="fields.correction"
            )
        correction = text(rec, f.correction, path) or ""
        if not correction.strip():
            raise DataError(
                "empty correction of a flagged text", path=path, line=rec.line, field=f.correction
            )
        if f.error_sentence:
            error_sentence = text(rec, f.error_sentence, path, required=False) or ""
        elif sentences is not None:
            error_sentence = sentences[sid]
    subset = text(rec, f.subset, path, numbers=True) if f.subset else ("error" if flag else "no error")
    return Item(
        id=item_id(f, rec, path),
        input=body,
        target={
            "flag": flag,
            "sentence_id": sid if flag else -1,
            "error_sentence": error_sentence,
            "corrected_sentence": correction,
        },
        subset=subset,
        metadata={"language": language} if language and language != "en" else {},
    )


# --------------------------------------------------------------------------- pairwise (pair data)


def _score(rec: Record, path: Path, field: str) -> float:
    import math

    v = get(rec, field, path)
    if isinstance(v, str):
        try:
            v = float(v.strip())
        except ValueError:
            raise DataError(f"expected a number, got {v!r}", path=path, line=rec.line, field=field) from None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise DataError(f"expected a number, got {v!r}", path=path, line=rec.line, field=field)
    return float(v)


def pairwise(
    f: PairwiseFields, rec: Record, path: Path, *, join: dict[str, str], language: str | None
) -> Item:
    from medevals.benchmarks.pairs import pair_item

    shown: dict[str, str] = {}
    ids: dict[str, str] = {}
    for side, text_field, id_field in (("a", f.a_text, f.a_id), ("b", f.b_text, f.b_id)):
        body = text(rec, text_field, path, join=join.get(f"{side}_text"), numbers=True) or ""
        if not body.strip():
            raise DataError("empty", path=path, line=rec.line, field=text_field)
        shown[side] = body
        ids[side] = (
            as_id(get(rec, id_field, path), where=path, line=rec.line, field=id_field) if id_field else body
        )
    preferred = None
    if f.preferred:
        preferred = text(rec, f.preferred, path, numbers=True)
    scores = {side: _score(rec, path, fld) for side, fld in (("a", f.a_score), ("b", f.b_score)) if fld}
    question = text(rec, f.question, path, join=join.get("question")) if f.question else ""
    criterion = text(rec, f.criterion, path, required=False) if f.criterion else None
    item = pair_item(
        id=item_id(f, rec, path),
        a_id=ids["a"],
        a_text=shown["a"],
        b_id=ids["b"],
        b_text=shown["b"],
        question=(question or "").strip(),
        criterion=(criterion or "").strip() or None,
        preferred=preferred,
        a_score=scores.get("a"),
        b_score=scores.get("b"),
        subset=text(rec, f.subset, path, numbers=True) if f.subset else None,
        where=path,
        line=rec.line,
        preferred_field=f.preferred or "preferred",
    )
    if item.target is not None and len(scores) == 2:
        by_score = "a" if scores["a"] > scores["b"] else "b" if scores["b"] > scores["a"] else "tie"
        if by_score != item.target:
            raise DataError(
                f"preferred is '{item.target}' but the scores ({scores['a']:g}, {scores['b']:g}) say '{by_score}'",
                path=path,
                line=rec.line,
                field=f.preferred,
            )
    if language and language != "en":
        item.metadata["language"] = language
    return item


class PairItemCheck:
    """Across pairs, one item id is one item: the same text, and the same reference score."""

    def __init__(self, path: Path, f: PairwiseFields):
        self.path, self.f = path, f
        self.seen: dict[str, tuple[str, float | None, int]] = {}

    def __call__(self, item: Item, line: int) -> None:
        ref = item.metadata.get("reference") or {}
        for side in ("a", "b"):
            it = item.metadata[side]
            score = ref.get(side)
            first = self.seen.setdefault(it["id"], (it["text"], score, line))
            id_field = getattr(self.f, f"{side}_id") or getattr(self.f, f"{side}_text")
            if first[0] != it["text"]:
                raise DataError(
                    f"item '{it['id']}' has another text than on line {first[2]}",
                    path=self.path,
                    line=line,
                    field=id_field,
                )
            if first[1] != score:
                raise DataError(
                    f"item '{it['id']}' has reference score {score} here and {first[1]} on line {first[2]}",
                    path=self.path,
                    line=line,
                    field=getattr(self.f, f"{side}_score") or id_field,
                )


# --------------------------------------------------------------------------- long documents


def longdoc(
    f: LongDocFields, rec: Record, path: Path, *, corpus: dict[str, Any], mcq_item: Item
) -> list[Item]:
    """The answerable item and its unanswerable twin (``documents.paired_items``) of one row."""
    from medevals.benchmarks.documents import paired_items, row_documents

    docs = row_documents(
        get(rec, f.documents, path), mcq_item.id, where=path, line=rec.line, field=f.documents
    )
    ids = [d.id for d in docs]
    answer_ids = list(ids)
    if f.answer_docs:
        raw = get(rec, f.answer_docs, path)
        answer_ids = []
        for i, v in enumerate(raw if isinstance(raw, list) else [raw]):
            key = as_id(v, where=path, line=rec.line, field=f"{f.answer_docs}.{i}")
            if key in ids:
                answer_ids.append(key)
            elif key.isdigit() and 1 <= int(key) <= len(ids):
                answer_ids.append(ids[int(key) - 1])
            else:
                raise DataError(
                    f"'{key}' is not one of this row's documents ({', '.join(ids)}; or a position 1-{len(ids)})",
                    path=path,
                    line=rec.line,
                    field=f.answer_docs,
                )
    meta = {k: v for k, v in mcq_item.metadata.items() if k == "language"}
    return paired_items(
        id=mcq_item.id,
        question=str(mcq_item.input),
        choices=dict(mcq_item.choices or {}),
        answer=str(mcq_item.target),
        answer_docs=answer_ids,
        exclude_docs=ids,
        corpus=corpus,
        subset=mcq_item.subset,
        metadata=meta,
    )


# --------------------------------------------------------------------------- step verification


def steps_item(f: StepFields, rec: Record, path: Path, *, join: dict[str, str], language: str | None) -> Item:
    raw = get(rec, f.steps, path)
    steps = (
        texts(rec, f.steps, path) if isinstance(raw, list) else (text(rec, f.steps, path) or "").splitlines()
    )
    steps = [s.strip() for s in steps or [] if s.strip()]
    if not steps:
        raise DataError("no steps", path=path, line=rec.line, field=f.steps)
    v = get(rec, f.first_error, path, required=False)
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none", "-1", "0")):
        label = 0
    else:
        label = _int(v, rec, path, f.first_error)
        label = 0 if label == -1 else label
        if not 0 <= label <= len(steps):
            raise DataError(
                f"step {label} of a {len(steps)}-step chain (1-based; 0, -1 or none: no error)",
                path=path,
                line=rec.line,
                field=f.first_error,
            )
    question = text(rec, f.question, path, join=join.get("question")) or ""
    if not question.strip():
        raise DataError("empty", path=path, line=rec.line, field=f.question)
    meta: dict[str, Any] = {"steps": steps}
    error_type = text(rec, f.error_type, path, required=False) if f.error_type else None
    if label and error_type:
        meta["error_type"] = error_type.strip()
    if language and language != "en":
        meta["language"] = language
    context = text(rec, f.context, path, join=join.get("context")) if f.context else None
    subset = (
        text(rec, f.subset, path, numbers=True)
        if f.subset
        else (meta.get("error_type") or ("error" if label else "clean"))
    )
    return Item(
        id=item_id(f, rec, path),
        input=question.strip(),
        context=context.strip() if context else None,
        target=label,
        subset=subset,
        metadata=meta,
    )
