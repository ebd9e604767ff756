"""Pair items for the ``pairwise`` protocol: from a spec's rows, or from two finished runs.

``pair_item`` is the one row -> Item mapping (a custom spec with ``protocol: pairwise`` maps
its fields to its arguments). ``compare_benchmark`` turns two run folders into a benchmark of
pairs, one per unit answered in both runs (same benchmark, item, variant; first repeat): the
question the item showed, model A's reply and model B's reply. Units missing from one run, failed
in one run, or whose question differs between the runs are skipped and counted by reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, Skipped
from medevals.errors import DataError
from medevals.schema import Item, Sample, Taxonomy


def pair_item(
    *,
    id: str,
    a_id: str,
    a_text: str,
    b_id: str,
    b_text: str,
    question: str = "",
    criterion: str | None = None,
    preferred: str | None = None,
    a_score: float | None = None,
    b_score: float | None = None,
    subset: str | None = None,
    where: Path | str = "",
    line: int = 0,
    preferred_field: str = "preferred",
) -> Item:
    """One pair. ``preferred`` (a/b/tie) or both reference scores (higher = more X) is the reference.

    ``preferred_field`` is the name a data error gives the preference (a spec's own field name)."""
    if preferred is not None:
        preferred = str(preferred).strip().lower()
        aliases = {"1": "a", "2": "b", "0": "tie", "first": "a", "second": "b", "equal": "tie"}
        preferred = aliases.get(preferred, preferred)
        if preferred not in ("a", "b", "tie"):
            raise DataError(
                f"preferred '{preferred}' is not a, b or tie (or 1, 2, 0)",
                path=where,
                line=line,
                field=preferred_field,
            )
    if a_id == b_id:
        raise DataError(f"a pair compares two different items ('{a_id}' twice)", path=where, line=line)
    meta: dict[str, Any] = {"a": {"id": a_id, "text": a_text}, "b": {"id": b_id, "text": b_text}}
    if criterion:
        meta["criterion"] = criterion
    if a_score is not None and b_score is not None:
        meta["reference"] = {"a": float(a_score), "b": float(b_score)}
    return Item(id=id, input=question, target=preferred, subset=subset, metadata=meta)


# ---------------------------------------------------------------------------------- runs
def reply_text(sample: Sample) -> str | None:
    """The model's last reply in a sample (the answer a judge compares), or None."""
    from medevals.models import openai_format

    for call in reversed(sample.calls):
        if call.role == "candidate" and call.raw is not None and call.kind != "embedding":
            text = openai_format.text(call.raw)
            return text if text.strip() else None
    return None


def question_text(item: Item) -> str:
    from medevals.protocols.freetext import transcript

    text = item.input if isinstance(item.input, str) else transcript(item.input)
    if item.context:
        text = f"{item.context}\n\n{text}"
    if item.choices:
        text += "\n" + "\n".join(f"{k}. {v}" for k, v in item.choices.items())
    return text


def _first_repeat(folder: Any) -> dict[tuple[str, str, str], Sample]:
    return {
        (s.benchmark, s.item.id, s.variant): s for s in folder.iter_samples(ordered=True) if s.repeat == 0
    }


def compare_benchmark(run_a: Path, run_b: Path) -> Benchmark:
    """A benchmark of (A's answer, B's answer) pairs over the units both runs hold."""
    from medevals.runs.folder import RunFolder

    fa, fb = RunFolder.open(run_a), RunFolder.open(run_b)
    ma, mb = fa.read_manifest(), fb.read_manifest()
    name_a, name_b = ma.model.spec, mb.model.spec
    if name_a == name_b:
        name_a, name_b = f"{name_a} ({ma.run_id})", f"{name_b} ({mb.run_id})"

    def load_local(folder: Path, split: str) -> Iterator[Item | Skipped]:
        a_samples, b_samples = _first_repeat(fa), _first_repeat(fb)
        for key in sorted(set(a_samples) | set(b_samples)):
            bench, item_id, variant = key
            uid = f"{bench}::{item_id}::{variant}"
            sa, sb = a_samples.get(key), b_samples.get(key)
            if sa is None or sb is None:
                yield Skipped(uid, f"only in run {'A' if sb is None else 'B'}")
                continue
            if sa.error or sb.error:
                yield Skipped(uid, "failed in one run")
                continue
            qa, qb = question_text(sa.item), question_text(sb.item)
            if qa != qb:
                yield Skipped(uid, "the runs asked different questions")
                continue
            ta, tb = reply_text(sa), reply_text(sb)
            if ta is None or tb is None:
                yield Skipped(uid, "no reply text in one run")
                continue
            yield pair_item(id=uid, a_id=name_a, a_text=ta, b_id=name_b, b_text=tb, question=qa, subset=bench)

    files = [fa.samples_path, fb.samples_path]
    digest = hashlib.sha256("|".join(str(p.resolve()) for p in files).encode()).hexdigest()[:8]
    return Benchmark(
        name="compare",
        title=f"Pairwise judging: {name_a} (A) vs {name_b} (B)",
        protocol="pairwise",
        task_type="pairwise comparison",
        taxonomy=Taxonomy(category="Comparison", subcategory="Pairwise judging of two runs"),
        license="as the compared benchmarks",
        source=f"runs {ma.run_id} vs {mb.run_id}",
        description=f"judge compares A's and B's answers, both orders (pair set {digest})",
        splits={"test": 0},
        default_split="test",
        load_local=load_local,
        local_files=lambda folder, split: files,
        bundled_dir=Path(run_a),
        options={"mode": "answers", "requires_judge": True},
    )
