"""Turn a multiple-choice benchmark whose questions carry a clinical vignette into an interactive one.

MediQ built iMedQA by splitting MedQA vignettes into atomic facts with an LLM. This converter
does the model-free version, so any MCQ benchmark with vignettes (MedQA, MedBullets, the
MedAgentsBench MedQA subset ...) runs under the ``interactive`` protocol without new data:

1. the question text is split into sentences (a small rule set that keeps decimals such as
   "37.2°C", "mm Hg." and abbreviations such as "Dr." or "e.g." inside their sentence);
2. the last sentence is the question stem (the trailing sentences ending in "?" when there
   are several), everything before it is the vignette;
3. the first vignette sentence is the initial information (MediQ's convention: age, sex and
   chief complaint usually sit there);
4. the atomic facts are the vignette sentences, further split at semicolons. They are
   coarser than MediQ's LLM-split facts (one sentence may hold several findings), so the
   share-of-facts metric is measured in sentences for converted benchmarks.

Items whose vignette has fewer than ``min_sentences`` sentences (no case to ask about, e.g.
"Which of the following is a branch of the facial nerve?") cannot be made interactive and
are left out; ``convert_items`` returns how many, and the benchmark's ``description`` says so.

Use it from Python for any benchmark::

    from medevals.benchmarks.interactive_convert import interactive_version
    from medevals.benchmarks import registry
    MEDBULLETS_INTERACTIVE = interactive_version(registry.get("medbullets"), splits={"op4": N})

and register the result in ``benchmarks/registry.py`` (``medqa-interactive`` is built this way).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.mediq import CONSULTATION
from medevals.errors import ConfigError
from medevals.schema import Item

#: Tokens that end with a full stop without ending a sentence.
ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "vs",
        "e.g",
        "i.e",
        "etc",
        "approx",
        "no",
        "fig",
        "al",
        "ca",
        "wt",
        "ht",
        "resp",
        "temp",
        "hr",
        "bp",
        "min",
        "max",
        "mo",
        "yr",
        "yrs",
        "wk",
        "wks",
        "sr",
        "jr",
        "dept",
        "inc",
    ]
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a vignette; decimals and known abbreviations do not end a sentence."""
    text = re.sub(r"\s+", " ", text or "").strip()
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        chunk = text[start : m.start()].rstrip()
        last = chunk.rsplit(" ", 1)[-1].rstrip(".!?").lower() if chunk else ""
        if chunk.endswith(".") and (last in ABBREVIATIONS or (len(last) == 1 and last.isalpha())):
            continue  # "Dr. Smith", "e.g. fever", initials
        out.append(text[start : m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def split_facts(sentences: Iterable[str]) -> list[str]:
    """Atomic facts from vignette sentences: each sentence, split again at semicolons."""
    facts = []
    for s in sentences:
        for part in s.split(";"):
            part = part.strip()
            if len(part) > 2:
                facts.append(part if part[-1] in ".?!" else part + ".")
    return facts


def to_interactive(item: Item, *, source: str = "", min_sentences: int = 2) -> Item | None:
    """The interactive form of one MCQ item, or None when its question holds no vignette."""
    if not item.choices:
        raise ConfigError(f"item {item.id}: only multiple-choice items can be made interactive")
    text = item.input if isinstance(item.input, str) else ""
    sentences = split_sentences(text)
    n_stem = 1
    while n_stem < len(sentences) and sentences[-n_stem - 1].endswith("?"):
        n_stem += 1  # a stem may be two questions ("... Which drug? What is its mechanism?")
    if not sentences[-1:] or not sentences[-1].endswith("?"):
        n_stem = 1
    vignette, stem = sentences[:-n_stem], sentences[-n_stem:]
    if len(vignette) < min_sentences:
        return None
    metadata = dict(item.metadata)
    metadata.update(
        initial_info=vignette[0],
        facts=split_facts(vignette),
        fact_unit="sentence",
        converted_from=source,
    )
    return item.model_copy(
        update={"input": " ".join(stem), "context": " ".join(vignette), "metadata": metadata}
    )


def convert_items(
    items: Iterable[Item], *, source: str = "", min_sentences: int = 2
) -> tuple[list[Item], int]:
    """Convert many items; returns (interactive items, number left out for lack of a vignette)."""
    out, skipped = [], 0
    for it in items:
        conv = to_interactive(it, source=source, min_sentences=min_sentences)
        if conv is None:
            skipped += 1
        else:
            out.append(conv)
    return out, skipped


def interactive_version(
    bench: Benchmark,
    *,
    splits: dict[str, int],
    name: str | None = None,
    min_sentences: int = 2,
) -> Benchmark:
    """A new benchmark serving ``bench``'s local data in interactive form (``splits``: sizes after conversion)."""
    if bench.load_local is None:
        raise ConfigError(f"benchmark '{bench.name}' has no local loader to convert")
    inner = bench.load_local

    def load(folder: Path, split: str) -> list[Item]:
        items, _ = convert_items(inner(folder, split), source=bench.name, min_sentences=min_sentences)
        return items

    return replace(
        bench,
        name=name or f"{bench.name}-interactive",
        title=f"{bench.title}, interactive (converted)",
        protocol="interactive",
        task_type="interactive consultation -> " + bench.task_type,
        taxonomy=CONSULTATION,
        description=f"{bench.name} converted by medevals.benchmarks.interactive_convert: first vignette "
        f"sentence as initial information, vignette sentences as facts; items with fewer than "
        f"{min_sentences} vignette sentences are left out.",
        splits=splits,
        default_split=bench.default_split if bench.default_split in splits else next(iter(splits)),
        load_local=load,
        hub=None,
        fewshot_split=None,
        options={},
        aliases=(),
    )


def _medqa_interactive() -> Benchmark:
    from medevals.benchmarks.mcq_sets import MEDQA

    return interactive_version(MEDQA, splits={"test": MEDQA_INTERACTIVE_TEST_SIZE})


#: MedQA test items with a vignette of >= 2 sentences (checked by tests/benchmarks/test_mediq.py).
MEDQA_INTERACTIVE_TEST_SIZE = 1254
MEDQA_INTERACTIVE = _medqa_interactive()
