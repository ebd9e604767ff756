"""Two small MCQ run folders built by hand, so every paired figure can be computed on paper.

Benchmark ``medqa`` (protocol ``mcq``), items q0..q12, variants ``zero-shot`` and ``cot``.

zero-shot, on q0..q9 (scored in both runs):
  A right on q0-q3 (4/10), B right on q0, q1, q4-q9 (8/10): only A right q2, q3 (2), only B
  right q4-q9 (6); B - A = +0.40; McNemar on 2 vs 6: exact 2 * 37/256, mid-p 46/256.
  ``hamming_score``: 0.5 on every A sample, 0.75 on every B one (B - A = +0.25, CI a point).
  Left out: q10 failed in B (error), q11 unscored in A (value None), q12 exists in A only.
cot, on q0..q9: A right on all, B on q0-q8: only A right q9 (1), exact p 1.0, mid-p 0.5.
"""

from __future__ import annotations

from pathlib import Path

from medevals.runs.folder import RunFolder
from medevals.schema import (
    BenchmarkRecord,
    CallRecord,
    Item,
    ModelRecord,
    RunManifest,
    Sample,
    Score,
    Taxonomy,
    Usage,
)

A_RIGHT = {"zero-shot": {0, 1, 2, 3}, "cot": set(range(10))}
B_RIGHT = {"zero-shot": {0, 1, 4, 5, 6, 7, 8, 9}, "cot": set(range(9))}


def bench_record() -> BenchmarkRecord:
    return BenchmarkRecord(
        name="medqa",
        protocol="mcq",
        task_type="mcq",
        split="test",
        n_items=13,
        data_source="local:bundled",
        data_hash="sha256:0123456789abcdef0123456789abcdef",
        taxonomy=Taxonomy(category="Medical knowledge", subcategory="exams"),
        license="CC-BY-4.0",
        source="https://example.org/medqa",
        variants=["zero-shot", "cot"],
    )


def call(
    model: str, question: str, reply: str, *, system: str | None = "You are a careful physician."
) -> CallRecord:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": question}
    ]
    return CallRecord(
        model=model,
        kind="chat",
        request={"messages": messages, "temperature": 0, "max_tokens": 64},
        raw={"choices": [{"message": {"role": "assistant", "content": reply}}]},
        latency_s=0.25,
        usage=Usage(prompt_tokens=50, completion_tokens=5),
        cost_usd=0.0,
    )


def sample(
    model: str,
    i: int,
    variant: str,
    right: bool,
    *,
    value: float | None = None,
    error: str | None = None,
    hamming: float = 0.5,
) -> Sample:
    item = Item(
        id=f"q{i}",
        input=f"Question {i}: which drug?",
        choices={"A": "aspirin", "B": "warfarin"},
        target="A",
        subset="cardio" if i % 2 else "neuro",
    )
    answer = "A" if right else "B"
    reply = f"The answer is ({answer})."
    v = (1.0 if right else 0.0) if value is None else value
    score = (
        None
        if error
        else Score(
            value=None if i == 11 and model.endswith("alpha") else v,
            answer=answer,
            target="A",
            values={"accuracy": v, "hamming_score": hamming},
            explanation="stated",
            method="stated",
        )
    )
    return Sample(
        unit_id=f"medqa/q{i}/{variant}/r0",
        benchmark="medqa",
        item=item,
        variant=variant,
        calls=[call(model, item.input if isinstance(item.input, str) else "", reply)],
        score=score,
        error=error,
    )


def make_run(path: Path, model: str, right: dict[str, set[int]], hamming: float) -> RunFolder:
    folder = RunFolder(path)
    folder.create()
    folder.write_manifest(
        RunManifest(
            run_id=path.name,
            medevals_version="0.1.0",
            command=["medevals", "run", "-m", model, "-b", "medqa", "--strategy", "zero-shot,cot"],
            created_at="2024-01-01T00:00:00Z",
            ended_at="2024-01-01T00:01:00Z",
            status="complete",
            model=ModelRecord(spec=model, backend="openai", name=model.split(":", 1)[1]),
            benchmarks=[bench_record()],
        )
    )
    alpha = model.endswith("alpha")
    for variant in ("zero-shot", "cot"):
        for i in range(10):
            folder.append_sample(sample(model, i, variant, i in right[variant], hamming=hamming))
        if variant == "zero-shot":
            if alpha:
                folder.append_sample(sample(model, 10, variant, True, hamming=hamming))
                folder.append_sample(sample(model, 11, variant, True, hamming=hamming))
                folder.append_sample(sample(model, 12, variant, True, hamming=hamming))
            else:
                folder.append_sample(sample(model, 10, variant, False, error="TimeoutError: slow"))
                folder.append_sample(sample(model, 11, variant, True, hamming=hamming))
    folder.close()
    from medevals.evaluate import compute_metrics

    folder.write_metrics(compute_metrics(folder, folder.read_manifest()))
    return folder


def make_pair(tmp: Path) -> tuple[RunFolder, RunFolder]:
    """(A, B): ``openai:alpha`` and ``openai:beta`` as described in the module docstring."""
    return (
        make_run(tmp / "run-a", "openai:alpha", A_RIGHT, 0.5),
        make_run(tmp / "run-b", "openai:beta", B_RIGHT, 0.75),
    )
