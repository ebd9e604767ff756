"""Benchmarks from a local data file plus a small YAML spec: no Python needed.

Example ``my-set.yaml`` (paths are relative to the spec file)::

    name: my-mcq
    data: questions.jsonl        # .jsonl, .json (list of objects) or .csv (with header)
    protocol: mcq
    fields:
      id: qid                    # optional (default: line number)
      question: question
      options: options           # a dict field, a list field, or a list of columns [opa, opb, opc, opd]
      answer: answer_idx
      context: abstract          # optional
      subset: subject            # optional, drives per-subset breakdowns
      images: image_path         # optional: a path (relative to the data file), a URL, or a list of them
    answer_format: letter        # letter | index0 | index1 | text
    fewshot_data: train.jsonl    # optional pool for few-shot examples
    taxonomy: {category: Medical knowledge, subcategory: Local exam}
    license: CC-BY-4.0
    source: https://example.org/my-set
    description: Our internal exam questions.
    language: es                 # optional: the items' language (prompts and answer phrases); default en
    options: {shots: 0}          # protocol option defaults

Every problem is reported as one line with the spec or data file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.mapping import LETTERS, as_id, as_text, mcq_item
from medevals.benchmarks.readers import Row, read_csv, read_json, read_jsonl
from medevals.errors import DataError
from medevals.schema import Item, ItemImage, Taxonomy
from medevals.yamlfile import load_yaml_with_lines


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    question: str
    options: str | list[str]
    answer: str
    context: str | None = None
    subset: str | None = None
    images: str | None = None


class CustomSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    data: str = Field(min_length=1)
    fields: FieldMap
    protocol: Literal["mcq"] = "mcq"
    title: str | None = None
    answer_format: Literal["letter", "index0", "index1", "text"] = "letter"
    fewshot_data: str | None = None
    taxonomy: Taxonomy = Taxonomy(category="Custom", subcategory="")
    license: str = "unspecified"
    source: str = "local file"
    description: str = ""
    language: str | None = None
    options: dict[str, Any] = {}

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        from medevals.errors import ConfigError
        from medevals.languages import normalize

        if v is None:
            return None
        try:
            return normalize(v)
        except ConfigError as e:
            raise ValueError(str(e)) from None


def _load_yaml_with_lines(path: Path) -> tuple[Any, dict[tuple[str, ...], int]]:
    return load_yaml_with_lines(path, "benchmark spec")


def load_spec(path: Path) -> Benchmark:
    if not path.exists():
        raise DataError("benchmark spec not found", path=path)
    data, lines = _load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise DataError("a benchmark spec must be a YAML mapping", path=path, line=1)
    try:
        spec = CustomSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        # pydantic names the union member that failed ("fields.options.str"): not a key of the spec
        loc = tuple(str(x) for x in err["loc"] if x not in ("str", "list[str]"))
        line = None
        for i in range(len(loc), 0, -1):
            if loc[:i] in lines:
                line = lines[loc[:i]]
                break
        raise DataError(err["msg"], path=path, line=line, field=".".join(loc)) from None
    base = path.parent
    data_path = (base / spec.data).resolve()
    fewshot_path = (base / spec.fewshot_data).resolve() if spec.fewshot_data else None
    for label, p in (("data", data_path), ("fewshot_data", fewshot_path)):
        if p is not None and not p.is_file():
            problem = "is a folder, not a data file" if p.is_dir() else "not found"
            raise DataError(f"file '{p}' {problem}", path=path, line=lines.get((label,)), field=label)

    def load_local(folder: Path, split: str) -> Iterator[Item]:
        src = data_path if split == "test" else fewshot_path
        assert src is not None
        return (_map_row(spec, row, src, line) for line, row in _rows(src))

    splits = {"test": 0}
    if fewshot_path is not None:
        splits["fewshot"] = 0
    return Benchmark(
        name=spec.name,
        title=spec.title or spec.name,
        protocol=spec.protocol,
        task_type="multiple choice",
        taxonomy=spec.taxonomy,
        license=spec.license,
        source=spec.source,
        description=spec.description or f"custom benchmark from {path}",
        splits=splits,
        default_split="test",
        load_local=load_local,
        local_files=lambda folder, split: [data_path if split == "test" else fewshot_path],  # type: ignore[list-item]
        bundled_dir=base,
        fewshot_split="fewshot" if fewshot_path else None,
        options=spec.options,
        images=spec.fields.images is not None,
        languages=(spec.language or "en",),
    )


def _rows(path: Path) -> Iterable[Row]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)  # streamed: a large file is never held whole
    if suffix == ".csv":
        return list(read_csv(path))
    if suffix == ".json":
        data = read_json(path)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DataError("a .json data file must hold a list of objects", path=path)
        return list(enumerate(data, start=1))
    raise DataError(f"unsupported data format '{suffix}' (use .jsonl, .json or .csv)", path=path)


def _get(row: dict[str, Any], field: str, path: Path, line: int) -> Any:
    cur: Any = row
    for part in field.split("."):
        if not isinstance(cur, dict) or part not in cur or cur[part] is None:
            raise DataError("missing", path=path, line=line, field=field)
        cur = cur[part]
    return cur


def _map_row(spec: CustomSpec, row: dict[str, Any], path: Path, line: int) -> Item:
    f = spec.fields
    if isinstance(f.options, list):
        choices = {LETTERS[i]: _get(row, col, path, line) for i, col in enumerate(f.options)}
    else:
        raw = _get(row, f.options, path, line)
        if isinstance(raw, dict):
            choices = {str(k): v for k, v in raw.items()}
        elif isinstance(raw, list):
            choices = {LETTERS[i]: v for i, v in enumerate(raw)}
        else:
            raise DataError("options must be an object or a list", path=path, line=line, field=f.options)
    ans = _get(row, f.answer, path, line)
    fmt = spec.answer_format
    try:
        if fmt in ("index0", "index1"):
            # an integer or digits only: int(1.7) == 1 and int(True) == 1 would credit a wrong key
            if (
                isinstance(ans, bool)
                or not isinstance(ans, int | str)
                or (isinstance(ans, str) and not ans.strip().lstrip("-").isdigit())
            ):
                raise ValueError
            idx = int(ans) - (1 if fmt == "index1" else 0)
            if not 0 <= idx < len(choices):
                raise IndexError
            ans = LETTERS[idx]
        elif fmt == "text":
            ans = as_text(ans, where=path, line=line, field=f.answer, numbers=True)
            matches = [k for k, v in choices.items() if str(v).strip() == ans.strip()]
            if len(matches) != 1:
                raise DataError(
                    f"answer text '{ans}' matches {len(matches)} options",
                    path=path,
                    line=line,
                    field=f.answer,
                )
            ans = matches[0]
    except (ValueError, IndexError):
        raise DataError(
            f"answer '{ans}' is not a valid {fmt} for {len(choices)} options",
            path=path,
            line=line,
            field=f.answer,
        ) from None

    def text(field: str, numbers: bool = False) -> str:
        return as_text(_get(row, field, path, line), where=path, line=line, field=field, numbers=numbers)

    item = mcq_item(
        id=as_id(_get(row, f.id, path, line), where=path, line=line, field=f.id) if f.id else str(line),
        question=text(f.question),
        choices=choices,
        answer=ans,
        answer_field=f.answer,
        where=path,
        line=line,
        context=text(f.context) if f.context else None,
        subset=text(f.subset, numbers=True) if f.subset else None,
        images=_images(row, f.images, path, line) if f.images else None,
    )
    if spec.language and spec.language != "en":
        item.metadata["language"] = spec.language
    return item


def _images(row: dict[str, Any], field: str, path: Path, line: int) -> list[ItemImage]:
    """A path (relative to the data file's folder), an http(s) URL, or a list of them, in order."""
    raw = _get(row, field, path, line)
    values = raw if isinstance(raw, list) else [raw]
    out: list[ItemImage] = []
    for i, v in enumerate(values):
        where = field if len(values) == 1 else f"{field}[{i}]"
        if not isinstance(v, str) or not v.strip():
            raise DataError("an image must be a non-empty path or URL", path=path, line=line, field=where)
        v = v.strip()
        if v.startswith(("http://", "https://")):
            out.append(ItemImage(url=v))
            continue
        p = (path.parent / v).resolve()
        if not p.is_file():
            raise DataError(f"image file '{p}' not found", path=path, line=line, field=where)
        out.append(ItemImage(path=str(p)))
    if not out:
        raise DataError("no image given", path=path, line=line, field=field)
    return out
