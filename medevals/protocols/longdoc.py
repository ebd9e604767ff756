"""Long-document QA (LongHealth style): evidence hidden among distractor documents, per token budget.

Each variant is a context budget (``--set budgets=4k,16k,128k``; ``k`` = 1024 tokens). For
one item under one budget the context is built as LongHealth builds it:

1. the item's answer documents go in first (none for the unanswerable twin);
2. distractors are taken from the rest of the corpus (never an answer or excluded document),
   in a seeded shuffle of the corpus (``seed`` x the question, the same for both items of a pair
   and for every budget, so a larger budget's distractors include the smaller's), each one
   added when it still fits, until the budget is full;
3. the chosen documents are put in a seeded random order (per question and budget), and where
   the evidence landed is recorded: its depth (share of the context before the first answer
   document) and a position bucket (0-20% ... 80-100%).

The budget bounds the *whole prompt* (instructions, documents, question, options) by a
tokenizer-free estimate: ``ceil(characters / chars_per_token)`` with 4 characters a token by
default (the rule of thumb OpenAI documents for English; LongHealth's public environment uses
the same 0.25 tokens a character). A tokenizer with fewer characters a token (clinical text
under a Llama tokenizer is nearer 3.5) needs ``--set chars_per_token=3.5`` to stay inside a
model's window. The answer's own tokens are not in the budget. A question whose answer
documents alone exceed a budget is *not applicable* at that budget (both items of the pair),
never cut.

The question is put as the MCQ protocol puts any question (same prompts, same letter
extraction, likelihood mode for base models) with the documents as its context and
LongHealth's abstention option added. Scores: accuracy per budget over all items, and per
item kind: ``answerable_accuracy``, ``false_abstention`` (abstained though the evidence was
there) and ``abstention_accuracy`` (the unanswerable twin: correct only when it abstains);
the summary tables give accuracy by budget and by evidence position.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator

from medevals.errors import ConfigError
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.protocols.mcq import MCQProtocol
from medevals.schema import CallRecord, Item, ModelRequest, Sample, Score
from medevals.scoring.stats import mean_ci

HEAD = "--------------BEGIN DOCUMENTS--------------\n\n"
SEP = "\n\n--------------\n\n"
TAIL = "\n\n--------------END DOCUMENTS--------------"
BUCKETS = ("0-20%", "20-40%", "40-60%", "60-80%", "80-100%")
_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kK]?)\s*$")


def parse_budget(text: str | int) -> int:
    """``"4k"`` -> 4096 tokens, ``"6000"`` -> 6000."""
    m = _BUDGET.match(str(text))
    if not m:
        raise ValueError(f"budget {text!r} is not a number of tokens such as 4k, 128k or 6000")
    n = float(m.group(1)) * (1024 if m.group(2) else 1)
    if n < 256:
        raise ValueError(f"budget {text!r} is under 256 tokens")
    return int(n)


def estimate_tokens(chars: int, chars_per_token: float) -> int:
    return math.ceil(chars / chars_per_token)


def bucket(depth: float) -> str:
    return BUCKETS[min(int(depth * 5), 4)]


def doc_block(title: str, text: str) -> str:
    return f"{title}\n{text}" if title else text


class LongDocOptions(ProtocolOptions):
    budgets: list[str] = Field(
        default_factory=lambda: ["4k", "8k", "16k", "32k", "64k", "128k"],
        description="context budgets in tokens (k = 1024), one variant each; the first headlines",
    )
    chars_per_token: float = Field(4.0, gt=0.5, le=10.0, description="token estimate: characters a token")
    strategy: Literal["zero-shot", "cot"] = "zero-shot"
    mode: Literal["auto", "generate", "likelihood"] = "auto"
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_logprobs: int = Field(20, ge=2, le=20)
    system_prompt: str | None = None

    _split = field_validator("budgets", mode="before")(comma_list)

    @field_validator("budgets")
    @classmethod
    def _check(cls, v: list[str]) -> list[str]:
        out = [str(b).strip().lower() for b in v]
        for b in out:
            parse_budget(b)
        if not out or len(set(out)) != len(out):
            raise ValueError("budgets must be distinct and at least one")
        return out


class LongDocProtocol(Protocol):
    name = "longdoc"
    primary_metric = "accuracy"
    Options = LongDocOptions
    options: LongDocOptions

    def __init__(self, options: LongDocOptions, benchmark: Any = None):
        super().__init__(options, benchmark)
        self.mcq = MCQProtocol.over_context(options)

    def variants(self) -> list[str]:
        return list(self.options.budgets)

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None

    def needs_logprobs(self, variant: str) -> bool:
        return self.options.mode == "likelihood"

    def templates(self) -> dict[str, str]:
        t = self.mcq.templates()
        t["documents"] = f"{HEAD}{{document}}{SEP}{{document}} ...{TAIL} (the MCQ context)"
        t["document"] = "{title}\\n{text} (title line only when the document has one)"
        return t

    async def setup(self, items: list[Item], clients: dict[str, Any]) -> None:
        from medevals.benchmarks.documents import corpus_key, load_corpus

        seen: set[str] = set()
        for it in items:  # fail before the first call on a corpus that cannot be read
            ref = it.metadata.get("corpus")
            if not isinstance(ref, dict):
                raise ConfigError(f"item {it.id}: the longdoc protocol needs metadata.corpus")
            if corpus_key(ref) not in seen:
                seen.add(corpus_key(ref))
                load_corpus(ref)

    # ------------------------------------------------------------------ context assembly
    def _prompt_chars(self, item: Item, ctx: SolveContext, context: str) -> int:
        req, _ = self.mcq.single_answer_request(
            item.model_copy(update={"context": context}), ctx, self.options.strategy
        )
        return request_chars(req)

    def assemble(self, item: Item, budget: str, seed: int, overhead_chars: int) -> dict[str, Any]:
        """Which documents, in which order, and where the evidence sits (pure: seed, item, budget).

        ``overhead_chars``: the characters of the whole prompt with an empty document block
        (``HEAD + TAIL``); the documents and their separators may add the rest of the budget.
        """
        from medevals.benchmarks.documents import load_corpus

        corpus = load_corpus(item.metadata["corpus"])
        pair = str(item.metadata.get("pair", item.id))
        answerable = bool(item.metadata.get("answerable", True))
        answer_ids = [str(d) for d in item.metadata.get("answer_docs") or []]
        excluded = {str(d) for d in item.metadata.get("exclude_docs") or []} | set(answer_ids)
        missing = [d for d in answer_ids if d not in corpus.by_id]
        if missing:
            raise ConfigError(f"item {item.id}: answer document '{missing[0]}' is not in its corpus")
        limit = parse_budget(budget) * self.options.chars_per_token - overhead_chars
        blocks = {d.id: doc_block(d.title, d.text) for d in corpus.docs}
        used = 0.0

        def cost(doc_id: str, n_before: int) -> int:
            return len(blocks[doc_id]) + (len(SEP) if n_before else 0)

        # The twin is not applicable where its answerable item is not: pairs stay paired.
        evidence_cost = sum(cost(d, i) for i, d in enumerate(answer_ids))
        if evidence_cost > limit:
            return {"applicable": False, "reason": "the answer documents alone exceed the budget"}
        chosen: list[str] = []
        if answerable:
            chosen = list(answer_ids)
            used = evidence_cost
        pool = [d.id for d in corpus.docs if d.id not in excluded]
        random.Random(f"longdoc:{seed}:{pair}").shuffle(pool)
        for d in pool:
            c = cost(d, len(chosen))
            if used + c <= limit:
                chosen.append(d)
                used += c
        random.Random(f"longdoc:{seed}:{pair}:{budget}:order").shuffle(chosen)
        context = HEAD + SEP.join(blocks[d] for d in chosen) + TAIL
        out: dict[str, Any] = {"documents": chosen, "context_chars": len(context)}
        if answerable:
            first = min(chosen.index(d) for d in answer_ids)
            before = len(HEAD) + sum(len(blocks[d]) + len(SEP) for d in chosen[:first])
            out["evidence_index"] = sorted(chosen.index(d) for d in answer_ids)
            out["evidence_depth"] = round(before / len(context), 4)
            out["position"] = bucket(before / len(context))
        out["_context"] = context
        return out

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        if not item.choices:
            raise ConfigError(f"item {item.id}: the longdoc protocol needs options")
        # The prompt with no document: what the documents may add is the budget minus this.
        overhead = self._prompt_chars(item, ctx, HEAD + TAIL)
        built = self.assemble(item, ctx.variant, ctx.seed, overhead)
        if built.get("applicable") is False:
            return built
        context = built.pop("_context")
        request, answer_out = self.mcq.single_answer_request(
            item.model_copy(update={"context": context}), ctx, self.options.strategy
        )
        chars = request_chars(request)
        built["prompt_tokens_est"] = estimate_tokens(chars, self.options.chars_per_token)
        await ctx.generate(request)
        return {**built, **answer_out}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        if output.get("applicable") is False:
            return Score(
                value=None,
                target=item.target,
                applicable=False,
                explanation=f"{variant}: {output.get('reason', 'not applicable')}",
            )
        sc = self.mcq.score(item, output, calls, self.options.strategy)
        abstain = item.metadata.get("abstain")
        if item.metadata.get("answerable", True):
            sc.values["answerable_accuracy"] = sc.value
            sc.values["false_abstention"] = float(sc.answer == abstain)
        else:
            sc.values["abstention_accuracy"] = sc.value
        return sc

    # ------------------------------------------------------------------ summary
    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        right: dict[tuple[str, bool], list[float]] = defaultdict(list)
        false_abst: dict[str, list[float]] = defaultdict(list)
        by_pos: dict[tuple[str, str], list[float]] = defaultdict(list)
        tokens: dict[str, list[int]] = defaultdict(list)
        ndocs: dict[str, list[int]] = defaultdict(list)
        pairs: dict[str, dict[tuple[str, int], dict[bool, float]]] = defaultdict(lambda: defaultdict(dict))
        na: dict[str, int] = defaultdict(int)
        for s in samples:
            if s.score is None:
                continue
            if not s.score.applicable:
                na[s.variant] += 1
                continue
            if s.score.value is None:
                continue
            ok = float(s.score.value)
            answerable = bool(s.item.metadata.get("answerable", True))
            right[(s.variant, answerable)].append(ok)
            if answerable:
                false_abst[s.variant].append(float(s.score.values.get("false_abstention") or 0.0))
                if s.output.get("position"):
                    by_pos[(s.variant, s.output["position"])].append(ok)
            if "prompt_tokens_est" in s.output:
                tokens[s.variant].append(int(s.output["prompt_tokens_est"]))
                ndocs[s.variant].append(len(s.output.get("documents") or []))
            pairs[s.variant][(str(s.item.metadata.get("pair", s.item.id)), s.repeat)][answerable] = ok
        budgets = [b for b in self.options.budgets if right.get((b, True)) or right.get((b, False))]
        rows = []
        for b in budgets:
            both = [min(v.values()) for v in pairs[b].values() if len(v) == 2]
            rows.append(
                [
                    b,
                    round(sum(tokens[b]) / len(tokens[b])) if tokens[b] else "-",
                    round(sum(ndocs[b]) / len(ndocs[b]), 1) if ndocs[b] else "-",
                    mean_ci(right[(b, True)]) if right.get((b, True)) else "-",
                    mean_ci(right[(b, False)]) if right.get((b, False)) else "-",
                    mean_ci(false_abst[b]) if false_abst.get(b) else "-",
                    mean_ci(both) if both else "-",
                    na.get(b, 0),
                ]
            )
        tables: list[dict[str, Any]] = [
            {
                "title": "Long-document QA by context budget",
                "columns": [
                    "budget",
                    "tokens (est.)",
                    "docs",
                    "answerable %",
                    "abstained (unanswerable) %",
                    "false abstention %",
                    "pair right %",
                    "n/a",
                ],
                "rows": rows,
                "terminal": True,
                "caption": "tokens: mean prompt tokens, estimated as characters / "
                f"{self.options.chars_per_token:g}; docs: mean documents in the context; abstained: "
                "the unanswerable twin chose LongHealth's 'Question cannot be answered with provided "
                "documents' (its accuracy); false abstention: the answerable item chose it; pair right: "
                "both items of a pair right; n/a: answer documents alone exceed the budget.",
            }
        ]
        pos_rows = []
        for pos in BUCKETS:
            cells: list[Any] = [pos]
            for b in budgets:
                vals = by_pos.get((b, pos))
                cells.append(mean_ci(vals) if vals else "-")
            if any(c != "-" for c in cells[1:]):
                pos_rows.append(cells)
        if pos_rows:
            tables.append(
                {
                    "title": "Answerable accuracy by evidence position (share of the context before it)",
                    "columns": ["evidence position", *[f"{b} % [95% CI]" for b in budgets]],
                    "rows": pos_rows,
                    "terminal": True,
                }
            )
        plots = [
            {
                "title": "Accuracy by context budget",
                "kind": "line",
                "x_label": "budget (tokens)",
                "y_label": "accuracy",
                "x_log": True,
                "y_range": [0, 1],
                "series": [
                    {
                        "name": label,
                        "points": [
                            [parse_budget(b), sum(right[(b, kind)]) / len(right[(b, kind)])]
                            for b in budgets
                            if right.get((b, kind))
                        ],
                    }
                    for label, kind in (("answerable", True), ("unanswerable (abstained)", False))
                ],
            }
        ]
        return {"tables": tables, "plots": plots}


def request_chars(req: ModelRequest) -> int:
    """Characters of the text a request puts to the model (chat contents or the completion prompt)."""
    body = req.body
    if "prompt" in body:
        return len(str(body["prompt"]))
    total = 0
    for m in body.get("messages") or []:
        c = m.get("content")
        if isinstance(c, list):
            total += sum(len(str(p.get("text", ""))) for p in c if isinstance(p, dict))
        else:
            total += len(str(c or ""))
    return total
