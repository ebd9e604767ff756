"""Biomedical named-entity recognition sets in IOB format: NCBI-disease and BC5CDR.

An item is one sentence: ``input`` is its tokens joined by single spaces, ``metadata["tokens"]``
the tokens themselves, and ``target`` the gold entities as token spans
``{"type", "start", "end"}`` (``end`` inclusive, the convention of ``nervaluate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.readers import _open_text
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

NER = Taxonomy(category="Medical research assistance", subcategory="Named entity recognition")


def iob_spans(tags: list[str], where: Path, first_line: int) -> list[dict[str, Any]]:
    """Entity spans from IOB tags; an I- tag that does not continue its type starts an entity (conlleval)."""
    spans: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for i, tag in enumerate(tags):
        if tag == "O":
            current = None
            continue
        prefix, sep, label = tag.partition("-")
        if not sep or prefix not in ("B", "I") or not label:
            raise DataError(
                f"tag '{tag}' is not O, B-TYPE or I-TYPE", path=where, line=first_line + i, field="tag"
            )
        if prefix == "I" and current is not None and current["type"] == label:
            current["end"] = i
            continue
        current = {"type": label, "start": i, "end": i}
        spans.append(current)
    return spans


def read_iob(path: Path, split: str) -> list[Item]:
    text = _open_text(path)
    items: list[Item] = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 1

    def flush() -> None:
        if tokens:
            items.append(
                Item(
                    id=f"{split}-{len(items):05d}",
                    input=" ".join(tokens),
                    target=iob_spans(tags, path, start),
                    metadata={"tokens": list(tokens), "line": start},
                )
            )

    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            flush()
            tokens, tags, start = [], [], n + 1
            continue
        cols = raw.split("\t")
        if len(cols) != 2 or not cols[0]:
            raise DataError(f"expected 'token<TAB>tag', found {len(cols)} column(s)", path=path, line=n)
        tokens.append(cols[0])
        tags.append(cols[1].strip())
    flush()
    return items


def _loader(subdir: str):
    def load(folder: Path, split: str) -> list[Item]:
        return read_iob(folder / subdir / f"{split}.tsv", split)

    return load


def _files(subdir: str):
    return lambda folder, split: [folder / subdir / f"{split}.tsv"]


NCBI_DISEASE = Benchmark(
    name="ncbi-disease",
    title="NCBI-disease NER",
    protocol="ner",
    task_type="named entity recognition (Disease)",
    taxonomy=NER,
    license="CC-BY-4.0 (MTL-Bioinformatics-2016 data)",
    source="Dogan et al. 2014, NCBI disease corpus (cambridgeltl/MTL-Bioinformatics-2016 IOB copy)",
    description="Disease mentions in PubMed sentences; strict and partial span F1 (nervaluate).",
    splits={"test": 940, "devel": 923, "train": 5424},
    default_split="test",
    local_dir="ner",
    load_local=_loader("NCBI-disease-IOB"),
    local_files=_files("NCBI-disease-IOB"),
    options={"types": ["Disease"]},
)

BC5CDR = Benchmark(
    name="bc5cdr",
    title="BC5CDR chemical and disease NER",
    protocol="ner",
    task_type="named entity recognition (Chemical, Disease)",
    taxonomy=NER,
    license="CC-BY-4.0 (MTL-Bioinformatics-2016 data)",
    source="Li et al. 2016, BioCreative V CDR corpus (cambridgeltl/MTL-Bioinformatics-2016 IOB copy)",
    description="Chemical and disease mentions in PubMed sentences; strict and partial span F1 (nervaluate).",
    splits={"test": 4797, "devel": 4581, "train": 4560},
    default_split="test",
    local_dir="ner",
    load_local=_loader("BC5CDR-IOB"),
    local_files=_files("BC5CDR-IOB"),
    options={"types": ["Chemical", "Disease"]},
)
