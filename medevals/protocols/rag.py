"""Retrieval-augmented multiple choice (MIRAGE-style), with stage metrics that say which stage fails.

Each MCQ item runs under three variants: ``no-retrieval`` (closed book), ``retrieval`` (the
top-k passages of ``--corpus`` retrieved with ``--rag bm25|dense|hybrid`` are the context)
and, when the benchmark carries the gold passage (PubMedQA's abstract), ``oracle`` (the gold
passage is the context). Prompts and answer reading are the MCQ protocol's own
(``protocols.mcq`` builds the request with the passages as its context; ``scoring.extract``
reads the letter), so the three accuracies differ only in the context.

Stage metrics, from stored outputs only: retrieval hit rate (the gold passage is among the
k, where the corpus holds it), answer-in-passages (the correct option's text occurs in the
passages: a recall proxy when no gold passage exists, skipped for options under 4 letters
and yes/no/maybe), and answer-changed-by-retrieval rates: *helped* (closed book wrong, with
retrieval right) and *hurt* (closed book right, with retrieval wrong), per item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from medevals.errors import ConfigError
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.protocols.mcq import MCQProtocol
from medevals.protocols.retrieval import RETRIEVERS, Retrievers
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.stats import mean_ci

CLOSED, RAG, ORACLE = "no-retrieval", "retrieval", "oracle"
NO_CONTAINMENT = {"yes", "no", "maybe"}


class RAGOptions(ProtocolOptions):
    rag: Literal["bm25", "dense", "hybrid"] = "bm25"
    corpus: str | None = Field(None, description="BEIR folder, 'pubmedqa', 'bioasq' or KIND:PATH")
    k: int = Field(5, ge=1, le=64, description="passages put in the prompt")
    passage_chars: int = Field(1500, ge=100, description="each passage is cut to this many characters")
    context: bool = Field(
        False, description="the item's own context is its gold passage: adds the oracle variant"
    )
    strategy: Literal["zero-shot", "cot"] = "zero-shot"
    mode: Literal["auto", "generate", "likelihood"] = "auto"
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_logprobs: int = Field(20, ge=2, le=20)
    system_prompt: str | None = None


def format_passages(passages: list[tuple[str, str, str]], limit: int) -> str:
    """``[1] title. text`` per passage, each cut to ``limit`` characters (MedRAG's layout, numbered)."""
    out = []
    for i, (_doc_id, title, text) in enumerate(passages, start=1):
        body = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."
        out.append(f"[{i}] {title + '. ' if title else ''}{body}")
    return "\n".join(out)


class RAGProtocol(Protocol):
    name = "rag"
    primary_metric = "accuracy"
    Options = RAGOptions
    options: RAGOptions
    roles = ("embedder",)

    def __init__(self, options: RAGOptions, benchmark: Any = None):
        super().__init__(options, benchmark)
        self.mcq = MCQProtocol.over_context(options)
        self.retrievers: Retrievers | None = None

    def default_roles(self) -> dict[str, str]:
        from medevals.protocols.retrieval import DEFAULT_EMBEDDER

        return {"embedder": DEFAULT_EMBEDDER} if self.options.rag in ("dense", "hybrid") else {}

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None  # one answer call per item (retrieval embeddings go to the embedder role)

    def needs_logprobs(self, variant: str) -> bool:
        return self.options.mode == "likelihood"

    def variants(self) -> list[str]:
        return [CLOSED, RAG, ORACLE] if self.options.context else [CLOSED, RAG]

    def templates(self) -> dict[str, str]:
        t = self.mcq.templates()
        t["passages"] = "[{n}] {title}. {text} (one line per retrieved passage; the MCQ context)"
        return t

    async def setup(self, items: list[Item], clients: dict[str, Any]) -> None:
        from medevals.benchmarks.base import data_root
        from medevals.benchmarks.retrieval_sets import load_corpus, resolve_corpus_ref

        if not self.options.corpus:
            raise ConfigError(
                "--rag needs --corpus FOLDER (a BEIR folder with corpus.jsonl) or pubmedqa/bioasq"
            )
        if self.options.rag not in RETRIEVERS:
            raise ConfigError(f"unknown retriever '{self.options.rag}'")
        corpus = load_corpus(resolve_corpus_ref(self.options.corpus, data_root(None)))
        self.retrievers = Retrievers(corpus, depth=max(self.options.k, 100))
        where = self.benchmark.name if self.benchmark else "rag"
        await self.retrievers.build([self.options.rag], clients, "embedder", unit_id=f"setup/{where}/corpus")

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if ctx.variant == CLOSED:
            context = None
        elif ctx.variant == ORACLE:
            if not item.context:
                raise ConfigError(
                    f"item {item.id}: the oracle variant needs the item's gold passage (context)"
                )
            context = item.context
        else:
            if self.retrievers is None:
                raise ConfigError("rag protocol used before setup (no index)")
            question = item.input if isinstance(item.input, str) else str(item.input)
            ranking = (await self.retrievers.search(self.options.rag, question, ctx, "embedder"))[
                : self.options.k
            ]
            corpus = self.retrievers.corpus
            docs = [corpus.docs[corpus.index_of[d]] for d, _ in ranking]
            context = format_passages([(d.id, d.title, d.text) for d in docs], self.options.passage_chars)
            gold = item.metadata.get("gold_doc") or (item.id if self.options.context else None)
            out["passages"] = [d.id for d in docs]
            if gold is not None:
                out["gold_in_corpus"] = str(gold) in corpus.index_of
                out["gold_hit"] = str(gold) in out["passages"]
            answer = (item.choices or {}).get(str(item.target), "")
            if len(answer) >= 4 and answer.strip().lower() not in NO_CONTAINMENT:
                out["answer_in_passages"] = (
                    answer.strip().lower() in " ".join(d.full_text for d in docs).lower()
                )
        augmented = item.model_copy(update={"context": context})
        request, answer_out = self.mcq.single_answer_request(augmented, ctx, self.options.strategy)
        await ctx.generate(request)
        out.update(answer_out)
        return out

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        model_calls = [c for c in calls if c.kind != "embedding"]
        sc = self.mcq.score(item, output, model_calls, self.options.strategy)
        if variant == RAG:
            if output.get("gold_in_corpus"):
                sc.values["retrieval_hit"] = float(bool(output.get("gold_hit")))
            if "answer_in_passages" in output:
                sc.values["answer_in_passages"] = float(bool(output["answer_in_passages"]))
        return sc

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        correct: dict[str, dict[tuple[str, int], float]] = defaultdict(dict)
        hits: dict[tuple[str, int], float] = {}
        contains: list[float] = []
        for s in samples:
            if s.score is None or s.score.value is None:
                continue
            key = (s.item.id, s.repeat)
            correct[s.variant][key] = float(s.score.value)
            if s.variant == RAG:
                if "retrieval_hit" in s.score.values:
                    hits[key] = float(s.score.values["retrieval_hit"] or 0.0)
                if "answer_in_passages" in s.score.values:
                    contains.append(float(s.score.values["answer_in_passages"] or 0.0))
        acc_rows = [
            [v, mean_ci(list(correct[v].values())), len(correct[v])]
            for v in self.variants()
            if correct.get(v)
        ]
        stage: list[list[Any]] = []
        if hits:
            stage.append(
                ["retrieval hit rate (gold passage in top-k)", mean_ci(list(hits.values())), len(hits)]
            )
            for label, want in (
                ("accuracy when the gold passage was retrieved", 1.0),
                ("accuracy when it was missed", 0.0),
            ):
                vals = [correct[RAG][k] for k, h in hits.items() if h == want and k in correct[RAG]]
                if vals:
                    stage.append([label, mean_ci(vals), len(vals)])
        if contains:
            stage.append(["answer text in passages", mean_ci(contains), len(contains)])
        for other in (RAG, ORACLE):
            paired = [k for k in correct.get(CLOSED, {}) if k in correct.get(other, {})]
            if not paired:
                continue
            helped = [float(correct[CLOSED][k] == 0 and correct[other][k] == 1) for k in paired]
            hurt = [float(correct[CLOSED][k] == 1 and correct[other][k] == 0) for k in paired]
            stage.append([f"{other}: helped (closed-book wrong -> right)", mean_ci(helped), len(paired)])
            stage.append([f"{other}: hurt (closed-book right -> wrong)", mean_ci(hurt), len(paired)])
        tables = [
            {
                "title": f"Accuracy by context (retriever {self.options.rag}, k={self.options.k})",
                "columns": ["variant", "accuracy % [95% CI]", "n"],
                "rows": acc_rows,
                "terminal": True,
            }
        ]
        if stage:
            tables.append(
                {
                    "title": "RAG stage metrics (which stage fails)",
                    "columns": ["stage", "% [95% CI]", "n"],
                    "rows": stage,
                    "terminal": True,
                }
            )
        return {"tables": tables}
