"""Document corpora and items for long-document QA (the ``longdoc`` protocol, LongHealth style).

A long-document item is a multiple-choice question whose evidence sits in one or more
*answer documents* of a corpus; the protocol hides them among *distractor documents* of the
same corpus up to a token budget (``protocols/longdoc.py``). Items do not carry the corpus:
128k tokens of distractors per item would make the item store hundreds of megabytes. They
carry a *corpus reference* (``metadata["corpus"]``, a small dict) that ``load_corpus`` turns
into the documents once per run; the distractor pool is then the whole corpus whatever
``--limit`` says, so an item's context does not depend on how many items run.

Every question comes as a pair (``paired_items``), as in LongHealth's task 2: the answerable
item (answer documents + distractors) and the *unanswerable* one (the same question over
distractors only). Both show the extra option LongHealth adds, "Question cannot be answered
with provided documents"; choosing it is correct only on the unanswerable item.

Corpus kinds (``{"kind": ..., "path": ...}``):

- ``pubmedqa``: the 1000 PQA-L abstracts of ``ori_pqal.json`` (id = PMID, text = CONTEXTS);
- ``rows``: any JSONL/JSON/CSV data file whose rows carry a list of documents in ``field``
  (each a string, or an object with ``id``/``text`` and optional ``title``): the corpus is the
  documents of every row, ids ``<row id>/<n>`` unless the document names its own.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medevals.benchmarks.mapping import LETTERS
from medevals.errors import DataError
from medevals.schema import Item

#: LongHealth's abstention option, shown on both items of a pair (its task 2 option F).
ABSTAIN_TEXT = "Question cannot be answered with provided documents"
UNANSWERABLE_SUFFIX = "~unanswerable"


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Corpus:
    """Documents in a fixed order (sorted by id), so a seeded shuffle is the same on every machine."""

    docs: tuple[Document, ...]

    @functools.cached_property
    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.docs}


def corpus_key(ref: dict[str, Any]) -> str:
    return json.dumps(ref, sort_keys=True)


def load_corpus(ref: dict[str, Any]) -> Corpus:
    """The corpus a reference names (cached per process: every item of a benchmark shares one)."""
    return _load(corpus_key(ref))


@functools.lru_cache(maxsize=8)
def _load(key: str) -> Corpus:
    ref = json.loads(key)
    kind = ref.get("kind")
    path = Path(str(ref.get("path", "")))
    if kind == "pubmedqa":
        docs = _pubmedqa_docs(path)
    elif kind == "rows":
        docs = _row_docs(path, str(ref["field"]), ref.get("id_field"), ref.get("records"))
    else:
        raise DataError(f"unknown document corpus kind {kind!r} (known: pubmedqa, rows)")
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"document id '{dup}' appears twice in the corpus", path=path)
    return Corpus(tuple(sorted(docs, key=lambda d: d.id)))


def _pubmedqa_docs(path: Path) -> list[Document]:
    from medevals.benchmarks.readers import read_json, require

    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("expected a JSON object keyed by PMID", path=path)
    out = []
    for n, (pmid, row) in enumerate(data.items(), start=1):
        contexts = require(row, "CONTEXTS", path, n, kind=list)
        out.append(Document(id=str(pmid), text="\n".join(str(c) for c in contexts)))
    return out


def row_documents(raw: Any, row_id: str, *, where: Path | str, line: int, field: str) -> list[Document]:
    """A row's ``documents`` value: a list of strings or of ``{id?, text, title?}`` objects."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise DataError("expected a non-empty list of documents", path=where, line=line, field=field)
    out = []
    for n, d in enumerate(raw, start=1):
        if isinstance(d, str):
            out.append(Document(id=f"{row_id}/{n}", text=d))
        elif isinstance(d, dict) and isinstance(d.get("text"), str):
            doc_id = d.get("id")
            out.append(
                Document(
                    id=str(doc_id) if doc_id is not None else f"{row_id}/{n}",
                    text=d["text"],
                    title=str(d.get("title") or ""),
                )
            )
        else:
            raise DataError(
                "a document is a string or an object with a 'text' string",
                path=where,
                line=line,
                field=f"{field}[{n - 1}]",
            )
        if not out[-1].text.strip():
            raise DataError("empty document", path=where, line=line, field=f"{field}[{n - 1}]")
    return out


def _row_docs(path: Path, field: str, id_field: str | None, records: str | None = None) -> list[Document]:
    from medevals.benchmarks.mapping import as_id
    from medevals.benchmarks.spec_rows import get, read_records

    out: list[Document] = []
    for rec in read_records(path, records):
        rid = (
            as_id(get(rec, id_field, path), where=path, line=rec.line, field=id_field)
            if id_field
            else rec.default_id
        )
        out.extend(row_documents(get(rec, field, path), rid, where=path, line=rec.line, field=field))
    return out


def paired_items(
    *,
    id: str,
    question: str,
    choices: dict[str, str],
    answer: str,
    answer_docs: list[str],
    corpus: dict[str, Any],
    subset: str | None = None,
    exclude_docs: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[Item]:
    """The answerable item and its unanswerable twin, both with the abstention option added.

    ``answer_docs`` hold the evidence; ``exclude_docs`` are never used as distractors (another
    document of the same patient would carry the evidence too).
    """
    if ABSTAIN_TEXT in choices.values():
        raise DataError(f"item {id}: an option is already '{ABSTAIN_TEXT}'")
    abstain = LETTERS[len(choices)]
    shown = {**choices, abstain: ABSTAIN_TEXT}
    meta = {
        **(metadata or {}),
        "corpus": corpus,
        "answer_docs": list(answer_docs),
        "exclude_docs": sorted(set(exclude_docs or []) | set(answer_docs)),
        "pair": id,
        "abstain": abstain,
    }
    return [
        Item(
            id=id,
            input=question,
            choices=shown,
            target=answer,
            subset=subset,
            metadata={**meta, "answerable": True},
        ),
        Item(
            id=id + UNANSWERABLE_SUFFIX,
            input=question,
            choices=shown,
            target=abstain,
            subset=subset,
            metadata={**meta, "answerable": False},
        ),
    ]
