"""The HTML report: content, side-by-side runs, and escaping of untrusted model output."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from medevals.report.html import render_html, write_report
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

try:
    from medevals.evaluate import compute_metrics
except ImportError:  # pragma: no cover - evaluate not importable in a stripped install
    compute_metrics = None

EVIL = '<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>'


def _bench(
    name: str = "medqa", category: str = "clinical decision support", n_items: int = 4
) -> BenchmarkRecord:
    return BenchmarkRecord(
        name=name,
        protocol="mcq",
        task_type="mcq",
        split="test",
        n_items=n_items,
        data_source="hf:example/medqa@abc123",
        data_hash="f00dfeedcafe0123456789abcdef",
        taxonomy=Taxonomy(category=category, subcategory="diagnosis"),
        license="CC-BY-4.0",
        source="https://example.org/medqa",
        variants=["direct", "cot"],
    )


def _call(content: str, cost: float | None) -> CallRecord:
    return CallRecord(
        model="openai:test-model",
        kind="chat",
        request={"messages": [{"role": "user", "content": "q"}]},
        raw={"choices": [{"message": {"role": "assistant", "content": content}}]},
        latency_s=0.5,
        usage=Usage(prompt_tokens=100, completion_tokens=20),
        cost_usd=cost,
    )


def _sample(
    i: int,
    variant: str,
    content: str,
    value: float | None,
    *,
    answer: str | None = "A",
    parsed: bool = True,
    error: str | None = None,
    cost: float | None = None,
    question: str = "Which drug?",
) -> Sample:
    item = Item(
        id=f"q{i}",
        input=question,
        choices={"A": "aspirin", "B": "warfarin"},
        target="A",
        subset="cardio" if i % 2 else "neuro",
    )
    score = Score(value=value, answer=answer, target="A", parsed=parsed) if error is None else None
    return Sample(
        unit_id=f"medqa/q{i}/{variant}/r0",
        benchmark="medqa",
        item=item,
        variant=variant,
        calls=[_call(content, cost)],
        score=score,
        error=error,
    )


def _make_run(
    path: Path, run_id: str, model: str, status: str, *, cost: float | None, evil: bool = False
) -> tuple[RunFolder, dict]:
    folder = RunFolder(path)
    folder.create()
    manifest = RunManifest(
        run_id=run_id,
        medevals_version="0.1.0",
        git_sha="deadbeef",
        command=["medevals", "run", "--model", model, "--benchmark", "medqa"],
        created_at="2024-01-01T00:00:00Z",
        ended_at="2024-01-01T00:10:00Z",
        status=status,  # type: ignore[arg-type]
        model=ModelRecord(spec=model, backend="openai", name=model.split(":", 1)[-1]),
        benchmarks=[_bench()],
        seed=7,
    )
    folder.write_manifest(manifest)
    samples = [
        _sample(
            0,
            "direct",
            EVIL if evil else "The answer is A.",
            1.0,
            cost=cost,
            question="Q with <b onmouseover=alert(2)>markup</b>" if evil else "Which drug?",
        ),
        _sample(1, "direct", "Answer: B", 0.0, answer="B", cost=cost),
        _sample(2, "direct", "I am not sure.", 0.0, answer=None, parsed=False, cost=cost),
        _sample(3, "direct", "", None, error="TimeoutError: took too long", cost=cost),
        _sample(0, "cot", "Thinking... A", 1.0, cost=cost),
        _sample(1, "cot", "Thinking... A", 1.0, cost=cost),
        _sample(2, "cot", "Thinking... B", 0.0, answer="B", cost=cost),
    ]
    for s in samples:
        folder.append_sample(s)
    folder.close()
    if compute_metrics is not None:
        metrics = compute_metrics(folder, manifest)
    else:  # pragma: no cover
        metrics = {
            "run_id": run_id,
            "model": model,
            "benchmarks": {
                "medqa": {
                    "primary": "accuracy",
                    "n": 7,
                    "n_scored": 6,
                    "n_unscored": 1,
                    "n_errors": 1,
                    "n_unparseable": 1,
                    "unparseable_rate": 1 / 6,
                    "metrics": {
                        "accuracy": {
                            "value": 0.5,
                            "ci_low": 0.188,
                            "ci_high": 0.812,
                            "n": 6,
                            "ci_method": "wilson",
                        }
                    },
                    "variants": {
                        "cot": {"value": 2 / 3, "ci_low": 0.2, "ci_high": 0.94, "n": 3},
                        "direct": {"value": 1 / 3, "ci_low": 0.06, "ci_high": 0.79, "n": 3},
                    },
                    "usage": {
                        "calls": 7,
                        "cache_hits": 0,
                        "replayed": 0,
                        "prompt_tokens": 700,
                        "completion_tokens": 140,
                        "cost_usd": None if cost is None else 7 * cost,
                    },
                    "latency_s": {"n": 7, "p50": 0.5, "p95": 0.5, "mean": 0.5},
                    "errors": {"TimeoutError": 1},
                    "expected": 8,
                    "taxonomy": {"category": "clinical decision support", "subcategory": "diagnosis"},
                }
            },
        }
    folder.write_metrics(metrics)
    return folder, folder.read_metrics()


@pytest.fixture
def two_runs(tmp_path: Path):
    a = _make_run(
        tmp_path / "run-a", "run-a-20240101", "openai:model-alpha", "interrupted", cost=None, evil=True
    )
    b = _make_run(tmp_path / "run-b", "run-b-20240102", "openai:model-beta", "complete", cost=0.001)
    return a, b


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, f"no section {sid}"
    return m.group(1)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_untrusted_output_is_escaped(two_runs):
    (fa, _), (fb, _) = two_runs
    page = render_html([fa, fb])
    for raw in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">',
        "<b onmouseover=alert(2)>",
    ):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;" in page
    assert "&lt;b onmouseover=alert(2)&gt;markup&lt;/b&gt;" in page

    # Structurally: no script element, no event-handler attribute, no javascript: URL anywhere.
    p = _Collector()
    p.feed(page)
    assert "script" not in p.tags
    assert "img" not in p.tags
    assert not [name for name, _ in p.attrs if name.startswith("on")]
    assert not [v for _, v in p.attrs if v and v.strip().lower().startswith("javascript:")]
    assert "<script" not in page.lower()


def test_metrics_ci_and_side_by_side(two_runs):
    (fa, ma), (fb, mb) = two_runs
    page = render_html([fa, fb])
    comp = _section(page, "comparison")
    assert comp.count('class="runcol"') == 2
    assert "openai:model-alpha" in comp and "openai:model-beta" in comp
    assert "run-a-20240101" in comp and "run-b-20240102" in comp
    for m in (ma, mb):
        acc = m["benchmarks"]["medqa"]["metrics"]["accuracy"]
        assert f"{100 * acc['value']:.1f}%" in comp
        assert f"[{100 * acc['ci_low']:.1f}, {100 * acc['ci_high']:.1f}]" in comp
    assert comp.count("<svg") == 2  # one CI bar per cell
    # the headline variant's own counts (direct: 3 scored of 4, 1 error), not both variants pooled (6/8)
    assert "<dt>n scored</dt><dd>3/4</dd>" in comp and "6/8" not in comp
    assert "TimeoutError" in comp
    # provenance (long tokens carry <wbr> break opportunities at their separators)
    text = page.replace("<wbr>", "")
    assert "hf:example/medqa@abc123" in text and "CC-BY-4.0" in text and "deadbeef" in text
    assert "clinical decision support" in _section(page, "categories")
    # variant/subset breakdowns with CI bars
    bd = _section(page, "breakdowns")
    assert "by variant" in bd and "by subset" in bd and "cot" in bd and "cardio" in bd
    assert "<svg" in bd


def test_interrupted_and_unknown_cost(two_runs):
    (fa, _), (fb, _) = two_runs
    page = render_html([fa, fb])
    assert "INTERRUPTED" in page
    assert "This run is <b>interrupted</b>" in page
    comp = _section(page, "comparison")
    cells = comp.split("<td>")
    alpha_cell = next(c for c in cells if "unknown" in c)
    assert "<dt>cost</dt><dd>unknown</dd>" in alpha_cell
    assert "<dt>cost</dt><dd>$0.0070</dd>" in comp


def test_sample_browser_caps_and_markers(two_runs):
    (fa, _), (fb, _) = two_runs
    page = render_html([fa, fb], max_samples=3)
    assert page.count('<details class="sample') == 6  # 3 per run
    assert "Showing the first 3 of 7 samples." in page
    page = render_html([fa])
    for mk in ("s-correct", "s-incorrect", "s-unparseable", "s-error"):
        assert mk in page
    assert "TimeoutError: took too long" in page
    assert "Thinking... B" in page


def test_long_question_truncated(tmp_path: Path):
    folder, _ = _make_run(tmp_path / "r", "r1", "openai:m", "complete", cost=0.0)
    long_q = "x" * 5000
    folder.append_sample(_sample(9, "direct", "A", 1.0, question=long_q))
    # a long message keeps its head and its tail (the instruction at the end of a prompt)
    s = _sample(10, "direct", "A", 1.0)
    s.calls[0].request["messages"] = [{"role": "user", "content": "HEAD" + "y" * 20000 + "TAIL"}]
    folder.append_sample(s)
    folder.close()
    page = render_html([folder])
    assert "x" * 5000 not in page and "more characters]" in page
    assert "y" * 20000 not in page and "characters not shown]" in page
    assert "HEAD" in page and "TAIL" in page


def test_write_report(two_runs, tmp_path: Path):
    (fa, _), _ = two_runs
    out = write_report([fa], tmp_path / "out" / "report.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "medevals report" in text
    p = _Collector()
    p.feed(text)
    assert "link" not in p.tags and "script" not in p.tags  # self-contained: no external assets
    assert not [v for name, v in p.attrs if name in ("src", "href") and v and not v.startswith("#")]
