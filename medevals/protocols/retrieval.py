"""Retrieval: rank a corpus for each query with BM25, dense embeddings or their fusion; score with nDCG/Recall/MRR/MAP (scoring/retrieval_metrics, ranx's definitions).

Each retriever named in ``--retriever bm25,dense,hybrid`` is a variant, so one run compares
them on the same queries. Indexes are built once per run in ``setup`` (and cached on disk by
corpus hash); dense query and document embeddings go through the ``embedder`` role (default
``builtin:minilm``; any OpenAI-compatible ``/v1/embeddings`` via ``--embedder openai:NAME@URL``),
so they are cached, journaled and costed. No language model is involved: ``--model`` may be
omitted. The stored output is the ranking itself, so ``rescore`` recomputes every metric.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import Field, field_validator

from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.schema import CallRecord, Item, ModelRequest, Sample, Score
from medevals.scoring import retrieval_metrics
from medevals.scoring.stats import CONTINUOUS, MetricSpec

RETRIEVERS = ("bm25", "dense", "hybrid")
DEFAULT_EMBEDDER = "builtin:minilm"
RECALL_CURVE = (1, 2, 3, 5, 10, 20, 50, 100)


class RetrievalOptions(ProtocolOptions):
    retriever: list[str] = Field(default_factory=lambda: ["bm25"])
    top_k: int = Field(100, ge=10, le=1000, description="ranking depth stored per query (MRR/MAP cut-off)")
    recall_at: list[int] = Field(default_factory=lambda: [10, 100])
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    embed_batch: int = Field(64, ge=1, le=2048, description="documents per embedding request")

    _split = field_validator("retriever", "recall_at", mode="before")(comma_list)

    @field_validator("retriever")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for r in v:
            if r not in RETRIEVERS:
                raise ValueError(f"unknown retriever '{r}' (known: {', '.join(RETRIEVERS)})")
        if not v:
            raise ValueError("no retriever given")
        return list(dict.fromkeys(v))


class Retrievers:
    """The indexes of one corpus, built on demand; shared by the retrieval and RAG protocols."""

    def __init__(self, corpus: Any, *, depth: int, rrf_k: int = 60, embed_batch: int = 64):
        self.corpus = corpus
        self.depth = depth
        self.rrf_k = rrf_k
        self.embed_batch = embed_batch
        self.bm25: Any = None
        self.dense: Any = None

    async def build(self, names: Iterable[str], clients: dict[str, Any], role: str, unit_id: str) -> None:
        from medevals.retrieval.bm25 import build_bm25
        from medevals.retrieval.dense import build_dense

        names = set(names)
        if names & {"bm25", "hybrid"} and self.bm25 is None:
            self.bm25 = build_bm25(self.corpus)
        if names & {"dense", "hybrid"} and self.dense is None:
            client = clients.get(role)
            if client is None:
                raise ConfigError(f"dense retrieval needs an '{role}' model (pass --embedder SPEC)")

            async def embed(texts: list[str]) -> list[list[float]]:
                rec = await client.call(
                    ModelRequest(kind="embedding", body={"input": texts}), unit_id=unit_id
                )
                return openai_format.embeddings(rec.raw)

            self.dense = await build_dense(
                self.corpus, embed, embedder=client.model_id, batch_size=self.embed_batch
            )

    async def search(self, name: str, query: str, ctx: SolveContext, role: str) -> list[tuple[str, float]]:
        from medevals.retrieval.fusion import reciprocal_rank_fusion

        if name == "bm25":
            return self.bm25.search(query, self.depth)
        rec = await ctx.generate(ModelRequest(kind="embedding", body={"input": [query]}), role=role)
        dense = self.dense.search_vectors(openai_format.embeddings(rec.raw), self.depth)[0]
        if name == "dense":
            return dense
        lexical = self.bm25.search(query, self.depth)
        return reciprocal_rank_fusion([lexical, dense], k=self.rrf_k, depth=self.depth)


def _label(metric: str) -> str:
    """Short column names so the metric table fits an 80-column terminal."""
    name, _, k = metric.partition("@")
    short = {"ndcg": "nDCG", "recall": "R", "mrr": "MRR", "map": "MAP"}.get(name, name)
    return f"{short}@{k}" if k else short


class RetrievalProtocol(Protocol):
    name = "retrieval"
    primary_metric = "ndcg@10"
    Options = RetrievalOptions
    options: RetrievalOptions
    roles = ("embedder",)
    needs_candidate: ClassVar[bool] = False

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        # nDCG, recall, MRR, MAP are per-query scores: a recall that is 0 or 1 on every query
        # (one relevant document) is still averaged with a bootstrap, like the others.
        return CONTINUOUS

    def __init__(self, options: RetrievalOptions, benchmark: Any = None):
        super().__init__(options, benchmark)
        self.retrievers: Retrievers | None = None

    def default_roles(self) -> dict[str, str]:
        if set(self.options.retriever) & {"dense", "hybrid"}:
            return {"embedder": DEFAULT_EMBEDDER}
        return {}

    def variants(self) -> list[str]:
        return list(self.options.retriever)

    def metrics(self) -> list[str]:
        return retrieval_metrics.metric_names(self.options.recall_at, self.options.top_k)

    def templates(self) -> dict[str, str]:
        return {"query": "{query} (embedded or tokenized as is)", "document": "{title}\\n{text}"}

    async def setup(self, items: list[Item], clients: dict[str, Any]) -> None:
        from medevals.benchmarks.retrieval_sets import load_corpus

        refs = {str(it.metadata.get("corpus")) for it in items}
        if len(refs) != 1 or "None" in refs:
            raise ConfigError(f"retrieval items must name exactly one corpus, found {sorted(refs)}")
        corpus = load_corpus(refs.pop())
        o = self.options
        self.retrievers = Retrievers(corpus, depth=o.top_k, rrf_k=o.rrf_k, embed_batch=o.embed_batch)
        where = self.benchmark.name if self.benchmark else "retrieval"
        await self.retrievers.build(o.retriever, clients, "embedder", unit_id=f"setup/{where}/corpus")

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        if self.retrievers is None:
            raise ConfigError("retrieval protocol used before setup (no index)")
        query = item.input if isinstance(item.input, str) else str(item.input)
        ranking = await self.retrievers.search(ctx.variant, query, ctx, "embedder")
        return {"ranking": [[d, round(s, 6)] for d, s in ranking]}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        ranking = [(str(d), float(s)) for d, s in output.get("ranking") or []]
        values = retrieval_metrics.evaluate_query(dict(item.target or {}), ranking, self.metrics())
        return Score(
            value=values["ndcg@10"],
            answer=ranking[0][0] if ranking else None,
            target=sorted(d for d, g in (item.target or {}).items() if g > 0),
            values=values,
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        qrels: dict[str, dict[str, int]] = {}
        runs: dict[str, dict[str, list[tuple[str, float]]]] = defaultdict(dict)
        problems: dict[str, int] = {}
        errors: dict[str, int] = defaultdict(int)
        for s in samples:
            qrels[s.item.id] = dict(s.item.target or {})
            problems = s.item.metadata.get("corpus_problems") or problems
            if s.error is None:
                runs[s.variant][s.item.id] = [(str(d), float(x)) for d, x in s.output.get("ranking") or []]
            else:
                errors[s.variant] += 1
        metrics = self.metrics()
        rows = []
        curves = []
        for variant in self.variants():
            if variant not in runs and not errors.get(variant):
                continue
            res = retrieval_metrics.evaluate(qrels, runs.get(variant, {}), metrics)
            rows.append(
                [
                    variant,
                    *[round(res[m], 4) for m in metrics],
                    len(runs.get(variant, {})),
                    errors.get(variant, 0),
                ]
            )
            ks = [k for k in RECALL_CURVE if k <= self.options.top_k]
            rec = retrieval_metrics.evaluate(qrels, runs.get(variant, {}), [f"recall@{k}" for k in ks])
            curves.append({"name": variant, "points": [[k, round(rec[f"recall@{k}"], 4)] for k in ks]})
        tables = [
            {
                "title": "Retrieval metrics per retriever (failed queries score 0)",
                "columns": ["retriever", *[_label(m) for m in metrics], "n", "errors"],
                "rows": rows,
                "terminal": True,
            }
        ]
        if problems:
            tables.append(
                {
                    "title": "Data problems (rows skipped while reading the corpus and judgements)",
                    "columns": ["problem", "count"],
                    "rows": [[k, v] for k, v in sorted(problems.items())],
                    "terminal": True,
                }
            )
        return {
            "tables": tables,
            "plots": [
                {"title": "Recall@k", "kind": "line", "x_label": "k", "y_label": "recall", "series": curves}
            ],
            "retrieval": {r[0]: dict(zip(metrics, r[1 : 1 + len(metrics)], strict=True)) for r in rows},
            "corpus_problems": problems,
        }
