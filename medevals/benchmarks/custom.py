"""Benchmarks from a local data file plus a small YAML spec, for any protocol: no Python needed.

Paths are relative to the spec file; ``medevals run -b my-set.yaml ...``. Keys every spec has::

    name: my-set
    data: questions.jsonl        # .jsonl, .json or .csv (a BEIR folder for protocol: retrieval)
    protocol: mcq                # mcq | freetext | open-diagnosis | rubric | ner | retrieval | error-detection | pairwise | longdoc | step-verify
    fields: {...}                # where each part of an item is in a record (per protocol, below)
    records: data.items          # optional, .json only: where the records are inside the document
    join: {context: "\\n\\n"}      # optional: these fields hold a list of texts, joined with this
    fewshot_data: train.jsonl    # optional (mcq, freetext): a pool of examples, same fields
    title: ...                   # optional, like taxonomy, license, source, description
    taxonomy: {category: Medical knowledge, subcategory: Local exam}
    language: es                 # optional: the items' language (prompts, answer phrases); default en
    options: {shots: 0}          # protocol option defaults (``--set`` overrides them)

A field is a dotted path into a record; a number indexes a list (``label.0``, ``answers.text.0``).
``records`` may name an object of objects (``{"PMID": {...}}``; ``records: $`` when that is the
whole document): each value is a record and its key is the field ``_key``. The id field is optional (default: the record's position); ids must
be unique (a repeat names the file and both lines).

``fields`` per protocol (optional ones in brackets):

- ``mcq``: question, options, answer, [id, context, subset, images]. ``options`` names a field
  holding an object (``{"A": ..}``, or keyed ``"1".."5"``: lettered A.. in numeric order), a list,
  a list of ``{letter, text}`` objects (``label`` for letter works too), or ``{label: [..], text:
  [..]}``; or it is a list of columns ``[opa, opb, opc, opd]``. Extra keys:
  ``answer_format: letter | index0 | index1 | text | true-false`` (letter also reads the data's
  own key, ``"3"`` of options keyed ``"1".."5"``; true-false reads true/false/yes/no/1/0 and
  shows the options True and False, so ``options`` is left out) and ``drop_empty_options: true``
  (empty or missing options are left out; the others keep their letters); ``fixed_options:
  [yes, no, maybe]`` gives every item the same options (then ``options`` is left out).
  ``images``: a path relative to the data file, an http(s) URL, or a list of them.
- ``freetext``: input (a text, or a conversation ``[{role, content}]``), [reference,
  statements, reference_set, usage_policy, harm_rubric, metadata: {name: field}, id, subset].
  ``statements`` / ``reference_set`` take a list, or a text split the protocol's way. The
  judged checks are protocol options: ``options: {checks: [axes, match]}`` (see
  ``protocols/graded_text.py``).
- ``open-diagnosis``: case, diagnosis, [id, subset].
- ``rubric``: prompt (a conversation or a text), rubrics (``[{criterion, points, tags}]``; tags
  optional here), [example_tags, id, subset].
- ``ner``: tokens (a list, or a text split at spaces), tags (IOB strings, or numbers with
  ``tag_names: [O, B-Disease, I-Disease]``), [id, subset]; or ``data`` is a CoNLL/IOB file
  (``.tsv``, ``.iob``, ``.conll``, ``.bio``: token TAB tag, a blank line between sentences) and
  ``fields`` is left out. ``options: {types: [Disease]}`` is required (what the model is asked).
- ``retrieval``: ``data`` is a BEIR folder (``corpus.jsonl``, ``queries.jsonl``,
  ``qrels/<split>.tsv``; no ``fields``), or a queries file with query, relevant (one document
  id, a list of them, or ``{id: grade}``), [id] plus ``corpus: docs.jsonl`` and
  ``corpus_fields: {id, text, [title]}`` (``corpus_records`` as ``records``).
- ``error-detection``: text (a text numbered one sentence per line, ``0 ...``, or a list of
  sentences, numbered from 0), a flag (0/1) and/or a sentence_id (-1 or empty: no error),
  correction (the corrected sentence of a flagged text), [error_sentence, id, subset].
- ``pairwise``: one record is one pair (PMR-Bench-style triage): a_text, b_text, the reference as
  preferred (a / b / tie, or 1 / 2 / 0) and/or a_score and b_score (higher = more X), [a_id,
  b_id, question, criterion, id, subset]. Without a_id / b_id an item's text is its id; one id is
  one item across pairs (same text, same score). What is compared is ``criterion`` (a field, or
  ``options: {criterion: more urgent}``); ``options.task`` is the instruction above the pair.
- ``longdoc``: the mcq fields (no context, no images) plus documents (a list of strings or of
  ``{id, text, title}`` objects) and [answer_docs] (ids of the row's documents that hold the
  answer, or 1-based positions; default all). The corpus is every row's documents (distractors
  for the others); each row becomes an answerable item and its unanswerable twin.
- ``step-verify``: question, steps (a list of texts, or one text with a step per line),
  first_error (1-based; 0, -1, none, empty or missing = a clean chain), [context, error_type,
  id, subset]. ``options.subject`` says what the case is ("a patient note and a question").

One example per protocol is in the README ("Your own benchmark"). Every problem is reported as
one line with the spec or data file, the line and the field (exit code 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medevals.benchmarks import spec_items
from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.spec_rows import IdCheck, Record, read_records
from medevals.errors import ConfigError, DataError
from medevals.schema import Item, Taxonomy
from medevals.yamlfile import load_yaml_with_lines

ProtocolName = Literal[
    "mcq",
    "freetext",
    "open-diagnosis",
    "rubric",
    "ner",
    "retrieval",
    "error-detection",
    "pairwise",
    "longdoc",
    "step-verify",
]

TASK_TYPES = {
    "mcq": "multiple choice",
    "freetext": "open answer against a reference (judged)",
    "open-diagnosis": "open-ended diagnosis (judge + string baseline)",
    "rubric": "rubric-graded conversation (judge)",
    "ner": "named entity recognition",
    "retrieval": "retrieval",
    "error-detection": "error flag, sentence localisation, correction",
    "pairwise": "pairwise comparison (which of two is more X), both orders",
    "longdoc": "long-document QA (evidence among distractors, per token budget)",
    "step-verify": "step verification (name the first wrong step, or none)",
}

#: Keys that mean something for some protocols only: given for another, they are an error.
PROTOCOL_KEYS: dict[str, tuple[str, ...]] = {
    "answer_format": ("mcq", "longdoc"),
    "drop_empty_options": ("mcq", "longdoc"),
    "fixed_options": ("mcq", "longdoc"),
    "fewshot_data": ("mcq", "freetext"),
    "tag_names": ("ner",),
    "corpus": ("retrieval",),
    "corpus_fields": ("retrieval",),
    "corpus_records": ("retrieval",),
}

IOB_SUFFIXES = (".tsv", ".iob", ".conll", ".bio")


class CorpusFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    text: str
    title: str | None = None


class CustomSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    data: str = Field(min_length=1)
    protocol: ProtocolName = "mcq"
    fields: dict[str, Any] = {}
    records: str | None = Field(None, min_length=1)
    join: dict[str, str] = {}
    title: str | None = None
    answer_format: spec_items.AnswerFormat = "letter"
    drop_empty_options: bool = False
    fixed_options: list[str] | None = Field(None, min_length=2)
    fewshot_data: str | None = None
    tag_names: list[str] | None = None
    corpus: str | None = None
    corpus_fields: CorpusFields | None = None
    corpus_records: str | None = Field(None, min_length=1)
    taxonomy: Taxonomy = Taxonomy(category="Custom", subcategory="")
    license: str = "unspecified"
    source: str = "local file"
    description: str = ""
    language: str | None = None
    options: dict[str, Any] = {}

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        from medevals.languages import normalize

        if v is None:
            return None
        try:
            return normalize(v)
        except ConfigError as e:
            raise ValueError(str(e)) from None


def _load_yaml_with_lines(path: Path) -> tuple[Any, dict[tuple[str, ...], int]]:
    # YAML 1.2 booleans: ``fixed_options: [yes, no, maybe]`` stays text (YAML 1.1 reads yes/no as
    # booleans: [True, False, "maybe"]); only true/false are booleans in a spec.
    return load_yaml_with_lines(path, "benchmark spec", yaml12_booleans=True)


def _spec_error(
    e: ValidationError, path: Path, lines: dict[tuple[str, ...], int], prefix: tuple[str, ...] = ()
):
    err = e.errors()[0]
    # pydantic names the union member that failed ("fields.options.str"): not a key of the spec
    loc = (*prefix, *(str(x) for x in err["loc"] if x not in ("str", "list[str]", "none")))
    line = None
    for i in range(len(loc), 0, -1):
        if loc[:i] in lines:
            line = lines[loc[:i]]
            break
    return DataError(err["msg"], path=path, line=line, field=".".join(loc))


def parse_spec(path: Path) -> tuple[CustomSpec, spec_items._Fields | None, dict[tuple[str, ...], int]]:
    """The validated spec, its protocol's field map (None for a BEIR folder or an IOB file), and key lines."""
    if not path.exists():
        raise DataError("benchmark spec not found", path=path)
    data, lines = _load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise DataError("a benchmark spec must be a YAML mapping", path=path, line=1)
    try:
        spec = CustomSpec.model_validate(data)
    except ValidationError as e:
        raise _spec_error(e, path, lines) from None
    for key, protocols in PROTOCOL_KEYS.items():
        if key in data and spec.protocol not in protocols:
            raise DataError(
                f"applies to protocol {' / '.join(protocols)} only, not {spec.protocol}",
                path=path,
                line=lines.get((key,)),
                field=key,
            )
    data_path = (path.parent / spec.data).resolve()
    bare = (spec.protocol == "retrieval" and data_path.is_dir()) or (
        spec.protocol == "ner" and data_path.suffix.lower() in IOB_SUFFIXES
    )
    fields: spec_items._Fields | None = None
    if bare:
        if spec.fields:
            what = "a BEIR folder" if data_path.is_dir() else "an IOB file"
            raise DataError(f"{what} needs no fields", path=path, line=lines.get(("fields",)), field="fields")
    else:
        if "fields" not in data:
            raise DataError("Field required", path=path, line=None, field="fields")
        try:
            fields = spec_items.FIELD_MAPS[spec.protocol].model_validate(spec.fields)
        except ValidationError as e:
            raise _spec_error(e, path, lines, ("fields",)) from None
        _check_protocol_fields(spec, fields, path, lines)
    for role in spec.join:
        if role not in spec.fields:
            raise DataError(
                f"'{role}' is not one of this spec's fields",
                path=path,
                line=lines.get(("join", role)),
                field=f"join.{role}",
            )
    if spec.protocol == "ner" and not spec.options.get("types"):
        raise DataError(
            "protocol ner needs options.types: the entity types to ask for, as your tags name them (e.g. [Disease])",
            path=path,
            line=lines.get(("options",)) or lines.get(("protocol",)),
            field="options.types",
        )
    if spec.protocol == "retrieval" and not bare and (spec.corpus is None or spec.corpus_fields is None):
        missing = "corpus" if spec.corpus is None else "corpus_fields"
        raise DataError(
            "a queries file needs corpus (the documents file) and corpus_fields ({id, text})",
            path=path,
            line=lines.get(("protocol",)),
            field=missing,
        )
    _check_options(spec, path, lines)
    return spec, fields, lines


def _check_protocol_fields(spec: CustomSpec, f: spec_items._Fields, path: Path, lines: dict) -> None:
    if isinstance(f, spec_items.MCQFields):
        fixed = "answer_format true-false" if spec.answer_format == "true-false" else None
        if spec.fixed_options is not None:
            fixed = "fixed_options" if fixed is None else "fixed_options and answer_format true-false"
        if fixed and f.options is not None:
            raise DataError(
                f"{fixed} gives every item its options: leave fields.options out",
                path=path,
                line=lines.get(("fields", "options")),
                field="fields.options",
            )
        if spec.answer_format == "true-false" and spec.fixed_options is not None:
            raise DataError(
                "answer_format true-false shows the options True and False: leave fixed_options out",
                path=path,
                line=lines.get(("fixed_options",)),
                field="fixed_options",
            )
        if not fixed and f.options is None:
            raise DataError(
                "Field required (or fixed_options: the same options for every item)",
                path=path,
                line=lines.get(("fields",)),
                field="fields.options",
            )
    if isinstance(f, spec_items.NERFields) and (f.tokens is None or f.tags is None):
        raise DataError(
            "Field required (or give an IOB file as data)",
            path=path,
            line=lines.get(("fields",)),
            field="fields.tokens" if f.tokens is None else "fields.tags",
        )
    if isinstance(f, spec_items.PairwiseFields):
        _check_pairwise(spec, f, path, lines)
    if isinstance(f, spec_items.LongDocFields):
        for key in ("context", "images"):
            if getattr(f, key) is not None:
                raise DataError(
                    "protocol longdoc builds the context from the documents: leave it out",
                    path=path,
                    line=lines.get(("fields", key)) or lines.get(("fields",)),
                    field=f"fields.{key}",
                )
    if isinstance(f, spec_items.RetrievalFields) and (f.query is None or f.relevant is None):
        raise DataError(
            "Field required (or give a BEIR folder as data)",
            path=path,
            line=lines.get(("fields",)),
            field="fields.query" if f.query is None else "fields.relevant",
        )


def _check_pairwise(spec: CustomSpec, f: spec_items.PairwiseFields, path: Path, lines: dict) -> None:
    """A pair needs a reference and something to compare by; answers mode is ``medevals compare``'s."""
    if (f.a_score is None) != (f.b_score is None):
        missing = "b_score" if f.b_score is None else "a_score"
        raise DataError(
            "reference scores need both a_score and b_score",
            path=path,
            line=lines.get(("fields",)),
            field=f"fields.{missing}",
        )
    if f.preferred is None and f.a_score is None:
        raise DataError(
            "Field required: the reference, as preferred (a / b / tie) and/or a_score and b_score",
            path=path,
            line=lines.get(("fields",)),
            field="fields.preferred",
        )
    if (f.a_id is None) != (f.b_id is None):
        raise DataError(
            "give both a_id and b_id, or neither (then an item's text is its id)",
            path=path,
            line=lines.get(("fields",)),
            field="fields.b_id" if f.b_id is None else "fields.a_id",
        )
    if spec.options.get("mode", "items") != "items":
        raise DataError(
            "a spec's pairs are compared by the model under test (mode items); judging two runs' "
            "answers is 'medevals compare runs/a runs/b --judge J'",
            path=path,
            line=lines.get(("options", "mode")) or lines.get(("options",)),
            field="options.mode",
        )
    if f.criterion is None and not spec.options.get("criterion"):
        raise DataError(
            "say what is compared: fields.criterion, or options: {criterion: more urgent}",
            path=path,
            line=lines.get(("fields",)),
            field="fields.criterion",
        )


def _check_options(spec: CustomSpec, path: Path, lines: dict) -> None:
    """Protocol options are checked here too, so a bad one names the spec's line."""
    from medevals.protocols.registry import get_protocol

    cls = get_protocol(spec.protocol)
    try:
        cls.Options.model_validate(spec.options)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "options"
        known = ", ".join(cls.Options.model_fields)
        key = ("options", *(str(x) for x in err["loc"][:1]))
        raise DataError(
            f"option '{loc}': {err['msg']} (protocol '{spec.protocol}' takes: {known})",
            path=path,
            line=lines.get(key) or lines.get(("options",)),
            field=f"options.{loc}",
        ) from None


def load_spec(path: Path) -> Benchmark:
    spec, fields, lines = parse_spec(path)
    base = path.parent
    data_path = (base / spec.data).resolve()
    fewshot_path = (base / spec.fewshot_data).resolve() if spec.fewshot_data else None
    corpus_path = (base / spec.corpus).resolve() if spec.corpus else None
    beir = spec.protocol == "retrieval" and data_path.is_dir()
    for label, p in (("data", data_path), ("fewshot_data", fewshot_path), ("corpus", corpus_path)):
        if p is None or (beir and label == "data"):
            continue
        if not p.is_file():
            problem = "is a folder, not a data file" if p.is_dir() else "not found"
            raise DataError(f"file '{p}' {problem}", path=path, line=lines.get((label,)), field=label)
    common = {
        "name": spec.name,
        "title": spec.title or spec.name,
        "protocol": spec.protocol,
        "task_type": TASK_TYPES[spec.protocol],
        "taxonomy": spec.taxonomy,
        "license": spec.license,
        "source": spec.source,
        "description": spec.description or f"custom benchmark from {path}",
        "options": spec.options,
        "languages": (spec.language or "en",),
    }
    if beir:
        from medevals.benchmarks.retrieval_sets import beir_folder_benchmark

        folder = beir_folder_benchmark(data_path)
        return Benchmark(
            **common,  # type: ignore[arg-type]
            splits=folder.splits,
            default_split=folder.default_split,
            load_local=lambda f, split: folder.load_local(data_path, split),  # type: ignore[misc]
            local_files=lambda f, split: folder.local_files(data_path, split),  # type: ignore[misc]
            bundled_dir=data_path,
        )

    def load_local(folder: Path, split: str) -> Iterator[Item]:
        src = data_path if split == "test" else fewshot_path
        assert src is not None
        return items_of(spec, fields, src, spec_path=path.resolve())

    def files(folder: Path, split: str) -> list[Path]:
        out = [data_path if split == "test" else fewshot_path]
        if corpus_path is not None:
            out.append(corpus_path)
        return out  # type: ignore[return-value]

    splits = {"test": 0}
    if fewshot_path is not None:
        splits["fewshot"] = 0
    return Benchmark(
        **common,  # type: ignore[arg-type]
        splits=splits,
        default_split="test",
        load_local=load_local,
        local_files=files,
        bundled_dir=base,
        fewshot_split="fewshot" if fewshot_path else None,
        images=isinstance(fields, spec_items.MCQFields) and fields.images is not None,
    )


def items_of(
    spec: CustomSpec, fields: spec_items._Fields | None, src: Path, *, spec_path: Path
) -> Iterator[Item]:
    """The items of one data file, checked record by record (ids unique, naming both lines)."""
    if fields is None:  # an IOB file (a BEIR folder never gets here)
        from medevals.benchmarks.ner_sets import read_iob

        types = list(spec.options["types"])
        for item in read_iob(src, "test"):
            bad = sorted({s["type"] for s in item.target} - set(types))
            if bad:
                raise DataError(
                    f"tag type '{bad[0]}' is not in options.types ({', '.join(types)})",
                    path=src,
                    line=item.metadata.get("line"),
                    field="tag",
                )
            if spec.language and spec.language != "en":
                item.metadata["language"] = spec.language
            yield item
        return
    check = IdCheck(src, fields.id)
    pairs = spec_items.PairItemCheck(src, fields) if isinstance(fields, spec_items.PairwiseFields) else None
    if isinstance(fields, spec_items.LongDocFields):
        corpus = {
            "kind": "rows",
            "path": str(src),
            "field": fields.documents,
            "id_field": fields.id,
            "records": spec.records,
        }
        for rec in read_records(src, spec.records):
            item = _map(spec, fields, rec, src, spec_path)
            check(item.id, rec.line)
            yield from spec_items.longdoc(fields, rec, src, corpus=corpus, mcq_item=item)
        return
    for rec in read_records(src, spec.records):
        item = _map(spec, fields, rec, src, spec_path)
        check(item.id, rec.line)
        if pairs is not None:
            pairs(item, rec.line)
        yield item


def _map(spec: CustomSpec, f: spec_items._Fields, rec: Record, src: Path, spec_path: Path) -> Item:
    lang, join = spec.language, spec.join
    if isinstance(f, spec_items.MCQFields):
        return spec_items.mcq(
            f,
            rec,
            src,
            answer_format=spec.answer_format,
            drop_empty=spec.drop_empty_options,
            fixed=spec.fixed_options,
            join=join,
            language=lang,
        )
    if isinstance(f, spec_items.FreeTextFields):
        return spec_items.freetext(f, rec, src, join=join, language=lang)
    if isinstance(f, spec_items.DiagnosisFields):
        return spec_items.diagnosis(f, rec, src, join=join, language=lang)
    if isinstance(f, spec_items.RubricFields):
        return spec_items.rubric(f, rec, src, join=join, language=lang)
    if isinstance(f, spec_items.NERFields):
        return spec_items.ner(
            f, rec, src, tag_names=spec.tag_names, types=list(spec.options["types"]), language=lang
        )
    if isinstance(f, spec_items.ErrorDetectionFields):
        return spec_items.error_detection(f, rec, src, join=join, language=lang)
    if isinstance(f, spec_items.PairwiseFields):
        return spec_items.pairwise(f, rec, src, join=join, language=lang)
    if isinstance(f, spec_items.StepFields):
        return spec_items.steps_item(f, rec, src, join=join, language=lang)
    if isinstance(f, spec_items.RetrievalFields):
        return _query(spec, f, rec, src, spec_path)
    raise AssertionError(type(f))


# --------------------------------------------------------------------------- retrieval from files


def _query(spec: CustomSpec, f: spec_items.RetrievalFields, rec: Record, src: Path, spec_path: Path) -> Item:
    from medevals.benchmarks.mapping import as_id
    from medevals.benchmarks.spec_rows import get, text

    assert f.query is not None and f.relevant is not None
    corpus = spec_corpus(str(spec_path))
    query = text(rec, f.query, src)
    assert query is not None
    if not query.strip():
        raise DataError("empty", path=src, line=rec.line, field=f.query)
    raw = get(rec, f.relevant, src)
    judged: dict[str, int] = {}
    if isinstance(raw, dict):
        for k, g in raw.items():
            if isinstance(g, bool) or not isinstance(g, int):
                raise DataError(
                    f"grade of '{k}' must be an integer", path=src, line=rec.line, field=f"{f.relevant}.{k}"
                )
            judged[str(k)] = g
    else:
        for i, d in enumerate(raw if isinstance(raw, list) else [raw]):
            judged[as_id(d, where=src, line=rec.line, field=f"{f.relevant}.{i}")] = 1
    unknown = [d for d in judged if d not in corpus.index_of]
    if unknown:
        raise DataError(
            f"document '{unknown[0]}' is not in the corpus", path=src, line=rec.line, field=f.relevant
        )
    if not any(g > 0 for g in judged.values()):
        raise DataError("no relevant document (every grade is 0)", path=src, line=rec.line, field=f.relevant)
    meta: dict[str, Any] = {"corpus": f"spec:{spec_path}", "corpus_problems": {}}
    if spec.language and spec.language != "en":
        meta["language"] = spec.language
    return Item(id=spec_items.item_id(f, rec, src), input=query.strip(), target=judged, metadata=meta)


def spec_corpus(spec_path: str):
    """The documents of a retrieval spec's ``corpus`` file (items name it as ``spec:PATH``)."""
    p = Path(spec_path)
    return _spec_corpus(spec_path, p.stat().st_mtime)


@lru_cache(maxsize=4)
def _spec_corpus(spec_path: str, _mtime: float):
    from medevals.benchmarks.spec_rows import text
    from medevals.retrieval.corpus import Corpus, Doc

    path = Path(spec_path)
    spec, _fields, _lines = parse_spec(path)
    assert spec.corpus is not None and spec.corpus_fields is not None
    src = (path.parent / spec.corpus).resolve()
    cf = spec.corpus_fields
    docs: list[Doc] = []
    check = IdCheck(src, cf.id)
    for rec in read_records(src, spec.corpus_records):
        from medevals.benchmarks.mapping import as_id
        from medevals.benchmarks.spec_rows import get

        doc_id = check(as_id(get(rec, cf.id, src), where=src, line=rec.line, field=cf.id), rec.line)
        body = text(rec, cf.text, src)
        title = text(rec, cf.title, src, required=False) if cf.title else ""
        if not (body or "").strip() and not (title or "").strip():
            raise DataError("empty document", path=src, line=rec.line, field=cf.text)
        docs.append(Doc(id=doc_id, text=body or "", title=title or ""))
    if not docs:
        raise DataError("no documents", path=src)
    return Corpus(docs, source=f"spec:{spec_path}")
