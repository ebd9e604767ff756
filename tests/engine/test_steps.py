"""Long steps before the item loop (model load, corpus embedding, BM25 indexing) report progress:
amount done of a known total, hence rate and ETA; shown as rows of the run's progress display."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from medevals.steps import StepEvent, reporting, step

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retrieval"))
from beirfix import embedding_responder, write_beir


def test_a_step_reports_start_each_advance_and_end_to_the_hook():
    seen: list[StepEvent] = []
    with reporting(seen.append), step("embedding corpus", total=10, unit="docs") as s:
        s.advance(4)
        s.advance(6)
    assert [(e.done, e.total, e.finished) for e in seen] == [
        (0, 10, False),
        (4, 10, False),
        (10, 10, False),
        (10, 10, True),
    ]
    assert len({e.key for e in seen}) == 1 and seen[-1].ok
    assert seen[0].rate is None and seen[0].eta_s is None  # nothing done yet: no rate to extrapolate


def test_rate_and_eta_follow_from_done_total_and_elapsed():
    e = StepEvent(1, "x", done=25, total=100, unit="docs", elapsed_s=5.0)
    assert e.rate == pytest.approx(5.0) and e.eta_s == pytest.approx(15.0)
    unknown = StepEvent(2, "loading", done=0, total=None, unit="model", elapsed_s=3.0)
    assert unknown.rate is None and unknown.eta_s is None


def test_a_failing_step_ends_not_ok_and_without_a_hook_nothing_is_reported():
    seen: list[StepEvent] = []
    with pytest.raises(RuntimeError), reporting(seen.append), step("loading x"):
        raise RuntimeError("boom")
    assert seen[-1].finished and not seen[-1].ok
    with step("quiet", total=1) as s:  # no hook: a no-op
        s.advance()
    assert len(seen) == 2


def test_the_hook_reaches_asyncio_tasks_and_threads_of_the_run():
    seen: list[str] = []

    def in_thread() -> None:
        with step("thread"):
            pass

    async def go() -> None:
        async def task() -> None:
            with step("task"):
                pass

        await asyncio.gather(task(), asyncio.to_thread(in_thread))

    with reporting(lambda e: seen.append(e.label)):
        asyncio.run(go())
    assert sorted(set(seen)) == ["task", "thread"]


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    from medevals.benchmarks.retrieval_sets import load_corpus

    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "indexes"))
    return load_corpus(f"beir:{write_beir(tmp_path / 'beir')}")


def test_corpus_embedding_advances_per_batch(corpus):
    from medevals.retrieval.dense import build_dense

    async def embed(texts):
        return [d["embedding"] for d in embedding_responder("/v1/embeddings", {"input": texts})["data"]]

    seen: list[StepEvent] = []
    with reporting(seen.append):
        asyncio.run(build_dense(corpus, embed, embedder="fake", batch_size=3))
    assert [(e.done, e.total, e.unit, e.finished) for e in seen] == [
        (0, 4, "docs", False),
        (3, 4, "docs", False),
        (4, 4, "docs", False),
        (4, 4, "docs", True),
    ]
    assert seen[0].label == "embedding corpus (fake)"
    seen.clear()
    with reporting(seen.append):  # from the on-disk cache: no step at all
        assert asyncio.run(build_dense(corpus, embed, embedder="fake", batch_size=3)).from_cache
    assert seen == []


def test_bm25_indexing_advances_per_chunk_and_ranks_as_before(corpus, monkeypatch):
    import medevals.retrieval.bm25 as bm25

    monkeypatch.setattr(bm25, "TOKENIZE_CHUNK", 3)
    seen: list[StepEvent] = []
    with reporting(seen.append):
        index = bm25.build_bm25(corpus, use_cache=False)
    assert [(e.done, e.total, e.finished) for e in seen] == [
        (0, 4, False),
        (3, 4, False),
        (4, 4, False),
        (4, 4, True),
    ]
    assert index.search("which drug treats diabetes", 10)[0][0] == "d2"
    assert index.search("the of and", 10) == []


def test_model_load_is_a_step_without_a_total(fake_server):
    from medevals.engine.client import ModelClient
    from medevals.models.openai_compat import OpenAICompatBackend
    from medevals.schema import ModelRecord

    server = fake_server()
    record = ModelRecord(spec="openai:m", backend="openai", name="m", base_url=server.base_url)
    client = ModelClient(OpenAICompatBackend(record))
    seen: list[StepEvent] = []
    with reporting(seen.append):
        asyncio.run(client.start())
    assert [(e.label, e.total, e.finished) for e in seen] == [
        ("loading openai:m", None, False),
        ("loading openai:m", None, True),
    ]


def test_the_cli_shows_long_steps_as_rows_and_drops_short_ones():
    from rich.console import Console
    from rich.progress import Progress, TextColumn

    from medevals.commands.progress import _count_column, step_printer

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    progress = Progress(TextColumn("{task.description}"), TextColumn("{task.fields[rate]}"), console=console)
    on_step = step_printer(progress, show=True, quiet=False)
    on_step(StepEvent(1, "embedding corpus (m)", 0, 1000, "docs", 0.0))
    on_step(StepEvent(1, "embedding corpus (m)", 640, 1000, "docs", 32.0))
    [row] = progress.tasks
    assert (row.description, row.completed, row.total, row.fields["rate"], row.fields["eta"]) == (
        "embedding corpus (m)",
        640,
        1000,
        "20.0 docs/s",
        "eta 0:00:18",  # 360 docs left at 20 docs/s
    )
    on_step(StepEvent(1, "embedding corpus (m)", 1000, 1000, "docs", 50.0, finished=True))
    assert progress.tasks[0].finished  # a long step stays, as a record of what took the time
    on_step(StepEvent(2, "loading openai:m", 0, None, "model", 0.0))
    on_step(StepEvent(2, "loading openai:m", 0, None, "model", 0.1, finished=True))
    assert [t.description for t in progress.tasks] == ["embedding corpus (m)"]
    # a long model load: a row with its elapsed time, without a count or an ETA it cannot know
    on_step(StepEvent(3, "loading builtin:x", 0, None, "model", 0.0))
    on_step(StepEvent(3, "loading builtin:x", 0, None, "model", 5.0, finished=True))
    load = progress.tasks[-1]
    assert load.description == "loading builtin:x" and load.finished and load.fields["eta"] == ""
    assert _count_column().render(load).plain == "" and _count_column().render(row).plain == "1000/1000"


def test_without_a_terminal_a_long_step_prints_one_line_when_it_ends(capsys):
    from medevals.commands.progress import step_printer

    on_step = step_printer(None, show=False, quiet=False)
    on_step(StepEvent(1, "embedding corpus (m)", 0, 1000, "docs", 0.0))
    on_step(StepEvent(1, "embedding corpus (m)", 1000, 1000, "docs", 50.0, finished=True))
    on_step(StepEvent(2, "loading openai:m", 0, None, "model", 0.1, finished=True))
    err = capsys.readouterr().err
    assert err.splitlines() == ["embedding corpus (m): 1000 docs in 50.0 s (20.0 docs/s)"]
