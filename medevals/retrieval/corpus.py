"""Corpora and relevance judgements in the BEIR / MTEB folder layout, read with counted problems.

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl``
(``_id``, ``text``) and ``qrels/<split>.tsv`` (``query-id  corpus-id  score``, header line).
Bad rows a user cannot fix upstream (documents without ids, judgements naming documents
that are not in the corpus) are skipped and *counted* in ``CorpusProblems``, so a run still
happens and the report says what was dropped; anything that makes the folder unreadable
(missing file, invalid JSON) is a ``DataError`` naming file and line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from medevals.benchmarks.readers import read_jsonl
from medevals.errors import DataError


@dataclass(frozen=True)
class Doc:
    id: str
    text: str
    title: str = ""

    @property
    def full_text(self) -> str:
        """What retrievers index: title then text (BEIR convention)."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass
class CorpusProblems:
    """Rows skipped while reading, by kind; each entry keeps a few examples with file:line."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, where: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        ex = self.examples.setdefault(kind, [])
        if len(ex) < 3:
            ex.append(where)

    def as_dict(self) -> dict[str, int]:
        return dict(self.counts)


@dataclass
class Corpus:
    docs: list[Doc]
    source: str
    problems: CorpusProblems = field(default_factory=CorpusProblems)

    def __post_init__(self) -> None:
        self.index_of = {d.id: i for i, d in enumerate(self.docs)}

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def hash(self) -> str:
        """Content hash of the documents (ids, titles, texts, order): the key of every cached index."""
        return corpus_hash(self.docs)


def corpus_hash(docs: list[Doc]) -> str:
    h = hashlib.sha256()
    for d in docs:
        for part in (d.id, d.title, d.text):
            h.update(part.encode())
            h.update(b"\x00")
    return h.hexdigest()


def read_beir_corpus(path: Path) -> Corpus:
    """``corpus.jsonl``; documents without an id, or with a duplicate id or no text, are skipped and counted."""
    problems = CorpusProblems()
    docs: list[Doc] = []
    seen: set[str] = set()
    for line, row in read_jsonl(path):
        raw_id = row.get("_id", row.get("id"))
        where = f"{path}:{line}"
        if raw_id is None or not str(raw_id).strip():
            problems.add("document without _id", where)
            continue
        doc_id = str(raw_id).strip()
        if doc_id in seen:
            problems.add("duplicate document _id", where)
            continue
        text = row.get("text")
        title = row.get("title") or ""
        if not isinstance(text, str) or not (text.strip() or str(title).strip()):
            problems.add("document without text", where)
            continue
        seen.add(doc_id)
        docs.append(Doc(id=doc_id, text=text, title=str(title)))
    if not docs:
        raise DataError("no usable documents (every row lacks an _id or text)", path=path)
    return Corpus(docs, source=f"beir:{path.parent}", problems=problems)


@lru_cache(maxsize=4)
def _cached_beir_corpus(path: str, mtime: float, size: int) -> Corpus:
    return read_beir_corpus(Path(path))


def load_beir_corpus(folder: Path) -> Corpus:
    """The folder's corpus, read once per process (the loader and the protocol both need it)."""
    path = folder / "corpus.jsonl"
    if not path.is_file():
        raise DataError("BEIR folder has no corpus.jsonl", path=folder)
    st = path.stat()
    return _cached_beir_corpus(str(path.resolve()), st.st_mtime, st.st_size)


def read_beir_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for line, row in read_jsonl(path):
        qid = row.get("_id", row.get("id"))
        text = row.get("text")
        if qid is None or not str(qid).strip():
            raise DataError("query without _id", path=path, line=line, field="_id")
        if not isinstance(text, str) or not text.strip():
            raise DataError("query without text", path=path, line=line, field="text")
        queries[str(qid).strip()] = text.strip()
    return queries


def read_qrels(
    path: Path, known_docs: set[str] | dict[str, int], problems: CorpusProblems
) -> dict[str, dict[str, int]]:
    """``qrels/<split>.tsv`` -> {query: {doc: grade}}; judgements naming unknown documents are counted and dropped."""
    if not path.is_file():
        raise DataError("qrels file not found", path=path)
    qrels: dict[str, dict[str, int]] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not raw.strip():
            continue
        cols = raw.split("\t") if "\t" in raw else raw.split()
        if n == 1 and cols[0].strip().lower() in ("query-id", "query_id", "qid"):
            continue  # header
        if len(cols) == 4:  # TREC layout: qid 0 docid grade
            cols = [cols[0], cols[2], cols[3]]
        if len(cols) != 3:
            raise DataError(f"expected 3 tab-separated columns, found {len(cols)}", path=path, line=n)
        qid, did, grade = (c.strip() for c in cols)
        try:
            g = int(float(grade))
        except ValueError:
            raise DataError(f"score '{grade}' is not a number", path=path, line=n, field="score") from None
        if did not in known_docs:
            problems.add("judgement naming a document not in the corpus", f"{path}:{n}")
            continue
        qrels.setdefault(qid, {})[did] = g
    return qrels
