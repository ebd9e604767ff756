"""Multiple choice under composable prompting strategies and probes, generative or likelihood scoring.

*generate* asks for the letter (chat models get a chat request, base models a completion
ending in ``Answer:``) and reads it with ``scoring.extract.extract_choice``. *likelihood*
asks for one token with the top logprobs and picks the option letter the model puts most
probability on (HELM's "joint" multiple-choice adapter); it suits base models such as the
builtin one and also yields a confidence for calibration. ``auto`` picks likelihood for base
models unless the strategy needs generated text (cot, scN, conf).

Strategies (``--strategy``, see ``protocols/strategies.py``) compose examples (random or kNN),
chain of thought, self-consistency, choice-shuffle ensembles and verbalised confidence; probes
(position bias, contamination, perturbations) are variants answered zero-shot and compared with
the ``zero-shot`` variant on the same items by ``summarize`` (``protocols/mcq_summary.py``).
Every answer call of an ensemble is one ``ctx.generate`` call with its own ``sample_index``
(and ``seed``), so each is cached and resumed on its own.

Languages: prompts come from ``protocols/mcq_prompts.py`` in the item's language (or the
``language`` option's) and answers are read with that language's phrases. Items that admit
several correct options (``is_set_item``) are asked for all correct letters, read as a set
(``extract_choices``) and scored by exact set match with the Hamming score beside it; one
next-token letter cannot name a set, so they are always generated, also in likelihood mode.
Votes (scN, shuffleN), verbal confidence, position shifts and option-order probes apply to sets
letter by letter. Numeric-entry questions (``is_numeric_item``: no options, IgakuQA's answer
boxes) are asked for a number, alone or under reasoning/sampling strategies; variants that need
options or multiple-choice examples are not applicable to them.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from medevals import languages as langs
from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols import mcq_prompts as mp
from medevals.protocols import options_order as oo
from medevals.protocols import perturb
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.protocols.image_parts import ImageOptions, prepare_item, user_content
from medevals.protocols.strategies import Strategy, expand, majority, parse
from medevals.schema import CallRecord, Item, Message, ModelRequest, Sample, Score
from medevals.scoring.exam_scores import item_points
from medevals.scoring.extract import choice_from_logprobs, extract_choice, extract_choices
from medevals.scoring.phrases import confidence_words
from medevals.scoring.stats import CONTINUOUS, MetricSpec
from medevals.systems.options import SystemOptions
from medevals.systems.runner import SystemTask, run_system, usage_values
from medevals.systems.spec import is_system_variant

_EN = mp.PROMPTS["en"]
INSTRUCTION = mp.join("en", _EN["intro"], _EN["answer_one"])
COT_INSTRUCTION = mp.join("en", _EN["intro"], _EN["cot_one"])
VERBAL_INSTRUCTION = _EN["verbal"]
OPTIONS_ONLY_INSTRUCTION = mp.join("en", _EN["options_only_intro"], _EN["options_only_one"])
STEM_ONLY_INSTRUCTION = mp.join("en", _EN["stem_only_intro"], _EN["answer_one"])
COMPLETION_INSTRUCTION = _EN["completion_probe"]
COMPLETION_HEADER = _EN["completion_header"]
BASE_COT_CUE = _EN["base_cot_cue"]
#: Share of the question's words shown in the completion probe; the rest is held back.
COMPLETION_SHOWN = 0.6
#: Words of the held-back tail compared (a longer tail is cut here).
COMPLETION_WORDS = 12
#: "Confidence: 80%" in any prompt language ("Confianza: 80%", "Confiance : 80 %", "置信度：80%").
_CONF = re.compile(rf"(?:{confidence_words()})\s*(?:level)?\s*[:=：]?\s*(\d{{1,3}}(?:\.\d+)?)\s*[%％]", re.I)
_WORDS = re.compile(r"[a-z0-9]+")
#: Probes whose edit is written for English text (an English distractor sentence, an English
#: paraphrase): not applicable to items in another language.
ENGLISH_ONLY_PROBES = ("perturb:distractor", "probe:completion")


def is_set_item(item: Item) -> bool:
    """Does the item admit several correct options? Its target is then a list of letters."""
    return bool(item.metadata.get("multi_answer")) and isinstance(item.target, list)


def is_numeric_item(item: Item) -> bool:
    """A numeric-entry exam question (no options; IgakuQA's answer boxes): the key is a number."""
    return not item.choices and item.metadata.get("answer_type") == "number"


def answer_text(target: Any) -> str:
    """A target as the model is shown it in a few-shot example: "C", or "A, C" for a set."""
    return ", ".join(target) if isinstance(target, list) else str(target)


class MCQOptions(ImageOptions, SystemOptions):
    mode: Literal["auto", "generate", "likelihood"] = "auto"
    strategy: list[str] = Field(default_factory=lambda: ["zero-shot"])
    shots: int = Field(5, ge=1, le=25, description="examples for the few-shot strategy")
    context: bool = True
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    sc_temperature: float = Field(0.7, gt=0.0, le=2.0, description="sampling temperature of scN")
    top_logprobs: int = Field(20, ge=2, le=20)
    system_prompt: str | None = None
    position_shifts: int | None = Field(
        None, ge=2, description="cyclic shifts in probe:position (default all)"
    )
    prompt_template: str | None = Field(
        None,
        description="a benchmark's official prompt for plain answer requests: {question}, {options} "
        "(one 'X: text' line each) and {A}, {B} ... (option texts) are filled in",
    )
    unparseable_as: str | None = Field(
        None,
        pattern=r"^[A-Z]$",
        description="score an unreadable generated reply as this option letter, only to compare with a "
        "grader that does so (MIRAGE's locate_answer returns 'A'); still counted as unparseable",
    )

    exam_score: Literal["none", "head-qa", "igakuqa"] = Field(
        "none",
        description="an exam's own score beside accuracy (scoring/exam_scores.py): head-qa net points "
        "(+3/-1/0), igakuqa question points",
    )
    language: str | None = Field(
        None,
        description="prompt and answer-extraction language for every item (en, es, fr, it, de, pt, zh, ja); "
        "default: each item's own language, else English",
    )

    _split = field_validator("strategy", mode="before")(comma_list)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v: Any) -> str | None:
        if v is None or (isinstance(v, str) and v.strip().lower() in ("", "auto")):
            return None
        try:
            return langs.normalize(v)
        except ConfigError as e:
            raise ValueError(str(e)) from None

    @field_validator("strategy")
    @classmethod
    def _known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v and not info.data.get("system"):
            raise ValueError("no strategy given (e.g. zero-shot, cot, 5shot)")
        return expand(v)

    @model_validator(mode="after")
    def _systems(self) -> MCQOptions:
        if self.system:
            # Systems alone unless strategies are asked for too (--strategy zero-shot adds the
            # single-model baseline on the same items); stored, so a rebuilt protocol agrees.
            if "strategy" not in self.model_fields_set:
                self.strategy = []
            if self.mode == "likelihood":
                raise ValueError("agent systems answer in text: use --set mode=generate (or auto)")
        return self


def format_question(item: Item, with_context: bool, *, hide: str | None = None, language: str = "en") -> str:
    """The question block; ``hide`` is "stem" or "options" for the contamination baselines."""
    p = mp.PROMPTS[language]
    parts = []
    if with_context and item.context and hide != "stem":
        parts.append(f"{p['context']}{item.context}")
    question = item.input if isinstance(item.input, str) else str(item.input)
    parts.append(f"{p['question']}{p['hidden']}" if hide == "stem" else f"{p['question']}{question}")
    if not item.choices:  # a numeric-entry question
        return "\n".join(parts)
    if hide == "options":
        parts.append(p["options"] + ", ".join(item.choices))
    else:
        parts.extend(f"{k}. {v}" for k, v in item.choices.items())
    return "\n".join(parts)


_TEMPLATE_FIELD = re.compile(r"\{(question|options|[A-Z])\}")


def render_template(template: str, item: Item) -> str:
    """Fill ``{question}``, ``{options}`` and ``{A}``... (no other brace is touched, so a template may
    contain literal braces); an option letter the item lacks is an error naming it."""
    assert item.choices is not None
    question = item.input if isinstance(item.input, str) else str(item.input)

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "question":
            return question
        if key == "options":
            return "\n".join(f"{k}: {v}" for k, v in item.choices.items())  # type: ignore[union-attr]
        if key not in item.choices:  # type: ignore[operator]
            raise ConfigError(f"item {item.id}: prompt_template names option {{{key}}} but the item has none")
        return item.choices[key]  # type: ignore[index]

    return _TEMPLATE_FIELD.sub(fill, template)


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def split_for_completion(text: str) -> tuple[str, str] | None:
    """(shown prefix, held-back tail) on a word boundary, or None when the question is too short."""
    tokens = text.split()
    if len(tokens) < 8:
        return None
    k = max(4, int(len(tokens) * COMPLETION_SHOWN))
    return " ".join(tokens[:k]), " ".join(tokens[k:])


def completion_overlap(generated: str, tail: str) -> float:
    """Share of the held-back tail's first words that the continuation reproduces word for word, in order."""
    want = _words(tail)[:COMPLETION_WORDS]
    got = _words(generated)
    if not want:
        return math.nan
    n = 0
    for a, b in zip(want, got, strict=False):
        if a != b:
            break
        n += 1
    return n / len(want)


def verbal_confidence(text: str) -> float | None:
    """The last "Confidence: N%" in a reply as a probability, or None."""
    found = _CONF.findall(text or "")
    if not found:
        return None
    v = float(found[-1])
    return v / 100 if 0 <= v <= 100 else None


class MCQProtocol(Protocol):
    name = "mcq"
    primary_metric = "accuracy"
    Options = MCQOptions
    options: MCQOptions

    def __init__(self, options: ProtocolOptions, benchmark: Any = None):
        super().__init__(options, benchmark)
        self._pool_vectors: tuple[int, list[list[float]]] | None = None
        self._pool_lock: asyncio.Lock | None = None

    @classmethod
    def over_context(cls, o: Any) -> MCQProtocol:
        """The MCQ reader a context-building protocol (``rag``, ``longdoc``) asks through: one
        strategy, the item's context shown, the caller's generation settings."""
        return cls(
            MCQOptions(
                mode=o.mode,
                strategy=[o.strategy],
                context=True,
                max_tokens=o.max_tokens,
                temperature=o.temperature,
                top_logprobs=o.top_logprobs,
                system_prompt=o.system_prompt,
            )
        )

    #: Per-sample values of agent systems: means with a bootstrap CI, never a proportion's.
    SYSTEM_VALUES = ("calls", "tokens", "cost_usd")

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        return CONTINUOUS if name in cls.SYSTEM_VALUES else None

    # ------------------------------------------------------------------ configuration
    def strategies(self) -> list[Strategy]:
        return [parse(v, self.options.shots) for v in self.options.strategy]

    def variants(self) -> list[str]:
        """The strategies, then one variant per agent system (``system:NAME``), on the same items."""
        return list(self.options.strategy) + self.options.system_variants()

    def uses_fewshot(self) -> bool:
        return any(s.shots for s in self.strategies())

    def ignored_options(self, given: set[str]) -> list[str]:
        # --shots sets the count of strategies that do not name one ("fewshot", "knn"); a strategy
        # that parses the same under any count does not read it
        if "shots" in given and all(
            replace(parse(v, 1), name="") == replace(parse(v, 2), name="") for v in self.options.strategy
        ):
            return [
                f"--shots {self.options.shots}: no strategy here takes its number of examples "
                f"({', '.join(self.options.strategy)}); ignored"
            ]
        return []

    def single_turn_obstacle(self, variant: str) -> str | None:
        if is_system_variant(variant):
            return f"agent system '{variant}' makes several model calls per item"
        st = parse(variant, self.options.shots) if variant != "default" else parse("zero-shot")
        if st.probe or st.degrade:
            return f"'{variant}' changes the question or its images with medevals' own edits (a recorded output answered the original)"
        if st.samples * st.shuffles > 1:
            return f"strategy '{variant}' makes {st.samples * st.shuffles} model calls per item"
        return None

    def needs_logprobs(self, variant: str) -> bool:
        return self.options.mode == "likelihood"

    def default_roles(self) -> dict[str, str]:
        return {"embedder": "builtin:minilm"} if any(s.knn for s in self.strategies()) else {}

    def languages(self) -> list[str]:
        """The prompt languages this run uses: the ``language`` option, else the benchmark's."""
        if self.options.language:
            return [self.options.language]
        bench = getattr(self.benchmark, "languages", None)
        return list(bench) if bench else [langs.DEFAULT]

    def language_of(self, item: Item) -> str:
        return langs.of_item(item.metadata, self.options.language)

    def templates(self) -> dict[str, str]:
        t = {
            "instruction": INSTRUCTION,
            "completion_header": COMPLETION_HEADER,
            "question": "[Context: {context}\\n]Question: {question}\\n{letter}. {option} (one line per option)",
        }
        sts = self.strategies()
        if any(s.cot for s in sts):
            t["cot_instruction"] = COT_INSTRUCTION
            t["base_cot_cue"] = BASE_COT_CUE
        if any(s.verbal for s in sts):
            t["verbal_confidence"] = VERBAL_INSTRUCTION
        probes = {s.probe for s in sts}
        if "probe:options-only" in probes:
            t["options_only"] = OPTIONS_ONLY_INSTRUCTION
        if "probe:stem-only" in probes:
            t["stem_only"] = STEM_ONLY_INSTRUCTION
        if "probe:completion" in probes:
            t["completion_probe"] = COMPLETION_INSTRUCTION + " (base models: the bare prefix)"
        used = self.languages()
        sets = bool(getattr(self.benchmark, "answer_sets", False))
        if used != [langs.DEFAULT] or sets:
            # Every string of the languages in use (the English keys above stay for English runs).
            t["prompt_version"] = mp.VERSION
            for lang in used:
                for key, text in mp.PROMPTS[lang].items():
                    if key != "sep":
                        t[f"{lang}:{key}"] = text
        if self.options.system_prompt:
            t["system"] = self.options.system_prompt
        if self.options.prompt_template:
            t["prompt_template"] = self.options.prompt_template
        return t

    def _mode(self, ctx: SolveContext, st: Strategy, item: Item | None = None) -> str:
        mode = self.options.mode
        if mode == "auto":
            mode = "likelihood" if ctx.is_base_model() and not st.needs_text else "generate"
        if mode == "likelihood" and st.needs_text:
            raise ConfigError(
                f"strategy '{st.name}' needs generated text: use --set mode=generate (or mode=auto)"
            )
        if mode == "likelihood" and item is not None and is_set_item(item):
            # One next-token letter cannot name a set of options: answer-set items are always
            # generated and read with extract_choices (the sample's output says so).
            mode = "generate"
        return mode

    # ------------------------------------------------------------------ examples
    def _random_examples(self, item: Item, ctx: SolveContext, k: int) -> list[Item]:
        pool = self._pool_without(item, ctx)
        if len(pool) < k:
            raise ConfigError(f"few-shot needs {k} examples but the pool has {len(pool)}")
        return ctx.rng.sample(pool, k)

    @staticmethod
    def _pool_without(item: Item, ctx: SolveContext) -> list[Item]:
        # numeric-entry questions (no options) are never shown as multiple-choice examples
        return [x for x in ctx.fewshot_pool if x.id != item.id and x.input != item.input and x.choices]

    @staticmethod
    def _embed_text(item: Item) -> str:
        return format_question(item, with_context=False)

    async def _pool_embeddings(self, ctx: SolveContext) -> list[list[float]]:
        """Embeddings of the whole few-shot pool, computed once per run (cached by the engine on disk).

        These run-level calls belong to no sample (like ``setup``), so they are not in any
        sample's cost; the per-item query embedding is.
        """
        if not ctx.has_role("embedder"):
            raise ConfigError(
                "kNN few-shot needs an embedder model (--embedder SPEC, default builtin:minilm)"
            )
        if self._pool_lock is None:
            self._pool_lock = asyncio.Lock()
        async with self._pool_lock:
            pool = ctx.fewshot_pool
            if self._pool_vectors is None or self._pool_vectors[0] != id(pool):
                from medevals.engine.client import CallFailed
                from medevals.steps import step

                client = ctx.clients["embedder"]
                vectors: list[list[float]] = []
                texts = [self._embed_text(x) for x in pool]
                # the first kNN unit waits for the whole pool (1,273 questions for MedQA here): a step
                # with its own rate and ETA beside the items' row
                label = f"embedding few-shot pool ({client.model_id})"
                with step(label, total=len(texts), unit="items") as progress:
                    for i in range(0, len(texts), 64):
                        req = ModelRequest(kind="embedding", body={"input": texts[i : i + 64]})
                        try:
                            rec = await client.call(req, unit_id="knn-pool", sample_index=0)
                        except CallFailed as e:
                            raise ConfigError(f"embedding the few-shot pool failed: {e}") from None
                        vectors.extend(openai_format.embeddings(rec.raw))
                        progress.advance(len(req.body["input"]))
                if len(vectors) != len(pool):
                    raise ConfigError(f"embedder returned {len(vectors)} vectors for {len(pool)} pool items")
                self._pool_vectors = (id(pool), vectors)
            return self._pool_vectors[1]

    async def _knn_examples(self, item: Item, ctx: SolveContext, k: int) -> list[Item]:
        vectors = await self._pool_embeddings(ctx)
        rec = await ctx.generate(
            ModelRequest(kind="embedding", body={"input": [self._embed_text(item)]}), role="embedder"
        )
        (query,) = openai_format.embeddings(rec.raw)
        candidates = [
            (i, x) for i, x in enumerate(ctx.fewshot_pool) if x.id != item.id and x.input != item.input
        ]
        if len(candidates) < k:
            raise ConfigError(f"kNN few-shot needs {k} examples but the pool has {len(candidates)}")
        qn = math.sqrt(sum(v * v for v in query)) or 1.0

        def sim(i: int) -> float:
            v = vectors[i]
            return sum(a * b for a, b in zip(query, v, strict=False)) / (
                qn * (math.sqrt(sum(b * b for b in v)) or 1.0)
            )

        ranked = sorted(candidates, key=lambda c: (-sim(c[0]), c[0]))[:k]
        return [x for _, x in reversed(ranked)]  # the nearest example sits next to the question

    # ------------------------------------------------------------------ requests
    def instruction(
        self, item: Item, language: str, *, cot: bool = False, verbal: bool = False, hide: str | None = None
    ) -> str:
        """The instruction for ``item`` in ``language`` (``protocols/mcq_prompts.py`` holds the words)."""
        p = mp.PROMPTS[language]
        if is_numeric_item(item):
            parts = [p["intro_number"], p["cot_number"] if cot else p["answer_number"]]
        elif is_set_item(item):
            n = item.metadata.get("n_select")
            note = p["count_note"].format(n=n) if n else p["set_note"]
            answer = p["cot_set"] if cot else p["answer_set"]
            intro = (
                p["options_only_intro"] if hide == "stem" else p["stem_only_intro"] if hide else p["intro"]
            )
            parts = [intro, note, answer]
        elif hide == "stem":
            parts = [p["options_only_intro"], p["options_only_one"]]
        elif hide == "options":
            parts = [p["stem_only_intro"], p["answer_one"]]
        else:
            parts = [p["intro"], p["cot_one"] if cot else p["answer_one"]]
        if verbal:
            parts.append(p["verbal"])
        return mp.join(language, *parts)

    def build_request(
        self,
        item: Item,
        ctx: SolveContext,
        *,
        mode: str,
        examples: list[Item] | None = None,
        cot: bool = False,
        verbal: bool = False,
        hide: str | None = None,
        sample: int | None = None,
    ) -> ModelRequest:
        """One answer request. ``sample`` set = a self-consistency draw (sampling temperature and seed)."""
        if not item.choices and not is_numeric_item(item):
            raise ConfigError(f"item {item.id}: the mcq protocol needs options")
        examples = examples or []
        o = self.options
        lang = self.language_of(item)
        p = mp.PROMPTS[lang]
        multi = is_set_item(item) or is_numeric_item(item)  # a generated answer of a few tokens
        temperature = o.sc_temperature if sample is not None else o.temperature
        instruction = self.instruction(item, lang, cot=cot, verbal=verbal, hide=hide)
        cue = p["answer"]  # "Answer:" ends every question block
        space = " " if p["sep"] else ""

        def block(x: Item, hidden: str | None = None) -> str:
            return f"{format_question(x, o.context, hide=hidden, language=lang)}\n{cue}"

        # A benchmark's official prompt replaces the generic one for plain answer requests only.
        templated = (
            render_template(o.prompt_template, item)
            if o.prompt_template and not examples and not cot and not verbal and hide is None
            else None
        )
        if ctx.is_base_model():
            if item.images or any(ex.images for ex in examples):
                raise ConfigError(
                    f"item {item.id} has images, but the model is a base (completion) model that reads text only"
                )
            if hide is None and not verbal:
                header = p["completion_header"]
                if multi:  # the reader must know several options may be right
                    header = mp.join(lang, header.rstrip("\n"), self.instruction(item, lang)) + "\n\n"
            else:
                header = f"{instruction}\n\n"
            prompt = (
                header
                + "".join(f"{block(ex)}{space}{answer_text(ex.target)}\n\n" for ex in examples)
                + block(item, hide)
                + (p["base_cot_cue"] if cot else "")
            )
            if templated is not None:
                prompt = templated
            body: dict[str, Any] = {"prompt": prompt, "temperature": temperature}
            if mode == "likelihood":
                body.update(max_tokens=1, logprobs=o.top_logprobs, temperature=0.0)
            else:
                # a base model's reasoning may contain blank lines; only the next question ends it
                nxt = "\n" + p["question"].rstrip()
                stop = [nxt] if cot else ["\n\n", nxt]
                body.update(max_tokens=o.max_tokens or (1024 if cot else 16 if multi else 8), stop=stop)
        else:
            messages: list[Message] = []
            if o.system_prompt:
                messages.append({"role": "system", "content": o.system_prompt})
            for i, ex in enumerate(examples):
                prefix = f"{instruction}\n\n" if i == 0 else ""
                messages.append(
                    {"role": "user", "content": user_content(f"{prefix}{block(ex)}", ex, o.image_position)}
                )
                messages.append(
                    {
                        "role": "assistant",
                        "content": p["example_answer"].format(answer=answer_text(ex.target)),
                    }
                )
            prefix = "" if examples else f"{instruction}\n\n"
            messages.append(
                {
                    "role": "user",
                    "content": user_content(
                        templated if templated is not None else f"{prefix}{block(item, hide)}",
                        item,
                        o.image_position,
                    ),
                }
            )
            body = {"messages": messages, "temperature": temperature}
            if mode == "likelihood":
                body.update(max_tokens=1, logprobs=True, top_logprobs=o.top_logprobs, temperature=0.0)
            else:
                body["max_tokens"] = o.max_tokens or (2048 if cot else 64 if verbal else 32)
        if sample is not None and mode != "likelihood":
            body["seed"] = ctx.seed * 1000 + sample
        return ModelRequest(kind="completion" if ctx.is_base_model() else "chat", body=body)

    def _completion_request(
        self, prefix: str, tail: str, ctx: SolveContext, language: str = "en"
    ) -> ModelRequest:
        p = mp.PROMPTS[language]
        n = max(16, 2 * len(tail.split()) + 8)
        if ctx.is_base_model():
            body: dict[str, Any] = {"prompt": f"{p['question']}{prefix}", "max_tokens": n, "temperature": 0.0}
            body["stop"] = ["\n"]
            return ModelRequest(kind="completion", body=body)
        msg = f"{p['completion_probe']}\n\n{prefix}"
        return ModelRequest(
            kind="chat",
            body={"messages": [{"role": "user", "content": msg}], "max_tokens": n, "temperature": 0.0},
        )

    # ------------------------------------------------------------------ solving
    def single_answer_request(
        self, item: Item, ctx: SolveContext, strategy: str
    ) -> tuple[ModelRequest, dict[str, Any]]:
        """One answer request for ``item`` under a one-call strategy (zero-shot, cot), and the
        output dict ``score(..., variant=strategy)`` reads. For protocols that wrap MCQ (RAG)."""
        st = parse(strategy, self.options.shots)
        if st.samples > 1 or st.shuffles > 1 or st.shots or st.knn or st.probe:
            raise ConfigError(f"strategy '{strategy}' makes more than one call or needs examples")
        mode = self._mode(ctx, st, item)
        req = self.build_request(item, ctx, mode=mode, cot=st.cot, verbal=st.verbal)
        return req, {"mode": mode, "parts": [{"use": "answer", "order": None}]}

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        if is_system_variant(ctx.variant):
            return await self._solve_system(item, ctx)
        st = parse(ctx.variant, self.options.shots)
        if is_numeric_item(item):
            return await self._solve_numeric(item, ctx, st)
        if not item.choices:
            raise ConfigError(f"item {item.id}: the mcq protocol needs options")
        # Images are converted (and degraded, for a degrade: strategy) once per unit, stored in the
        # run folder by hash; the requests below carry only those references.
        shown, images = await prepare_item(item, ctx, self.options, degrade=st.degrade)
        out = await (self._solve_probe(shown, ctx, st) if st.probe else self._solve_strategy(shown, ctx, st))
        if images:
            out["images"] = images
        if st.degrade and not images:
            out["applicable"] = False  # a text item in an image set: nothing was degraded
        return out

    async def _solve_numeric(self, item: Item, ctx: SolveContext, st: Strategy) -> dict[str, Any]:
        """A numeric-entry question: asked (and voted) like any item under strategies that only add
        reasoning, samples or a confidence; not applicable where options or examples are needed
        (probes, option shuffles, few-shot examples: the example pool is multiple choice)."""
        if st.probe or st.shuffles > 1 or st.shots or st.degrade:
            return {"mode": "generate", "parts": [], "applicable": False}
        parts: list[dict[str, Any]] = []
        for i in range(st.samples):
            req = self.build_request(
                item, ctx, mode="generate", cot=st.cot, verbal=st.verbal, sample=i if st.samples > 1 else None
            )
            await ctx.generate(req, sample_index=ctx.repeat * 1000 + i if st.ensemble else None)
            parts.append({"use": "answer", "order": None})
        return {"mode": "generate", "parts": parts}

    async def _solve_strategy(self, item: Item, ctx: SolveContext, st: Strategy) -> dict[str, Any]:
        assert item.choices is not None
        mode = self._mode(ctx, st, item)
        parts: list[dict[str, Any]] = []
        examples: list[Item] = []
        if st.knn:
            examples = await self._knn_examples(item, ctx, st.shots)
            parts.append({"use": "embed"})
        elif st.shots:
            examples = self._random_examples(item, ctx, st.shots)
        if any(ex.images for ex in examples):  # examples' images are shown clean
            examples = [(await prepare_item(ex, ctx, self.options))[0] for ex in examples]
        letters = list(item.choices)
        orders = [letters]
        if st.shuffles > 1:
            rng = random.Random(f"{ctx.seed}:{item.id}:shuffle")
            orders += [oo.random_order(letters, rng, not_identity=True) for _ in range(st.shuffles - 1)]
        for j, order in enumerate(orders):
            shown = item if order == letters else oo.reorder(item, order)
            for i in range(st.samples):
                k = j * st.samples + i
                req = self.build_request(
                    shown,
                    ctx,
                    mode=mode,
                    examples=examples,
                    cot=st.cot,
                    verbal=st.verbal,
                    sample=k if st.samples > 1 else None,
                )
                await ctx.generate(req, sample_index=ctx.repeat * 1000 + k if st.ensemble else None)
                parts.append({"use": "answer", "order": None if order == letters else order})
        out: dict[str, Any] = {"mode": mode, "parts": parts}
        if examples:
            out["examples"] = [x.id for x in examples]
        return out

    def system_task(self, item: Item, ctx: SolveContext) -> SystemTask:
        """The item as an agent system sees it: the question and options as text, the answer
        instructions of this protocol (in the item's language), and the answer reading for votes
        (an option letter, a set of letters, or a number for a numeric-entry question)."""
        lang = self.language_of(item)
        p = mp.PROMPTS[lang]
        question = item.input if isinstance(item.input, str) else str(item.input)
        stem = f"{item.context}\n\n{question}" if (self.options.context and item.context) else question
        key: Callable[[str], Any]
        if is_numeric_item(item):
            from medevals.scoring.extract import patterns
            from medevals.scoring.numeric_entry import read_number

            statement = patterns(lang).statement
            options, answer, reasoning = "", p["answer_number"], p["cot_number"]

            def key(text: str) -> Any:
                return read_number(text, statement)

        else:
            if not item.choices:
                raise ConfigError(f"item {item.id}: the mcq protocol needs options")
            multi = is_set_item(item)
            options = "\n".join(f"{k}. {v}" for k, v in item.choices.items())
            n = item.metadata.get("n_select")
            note = (p["count_note"].format(n=n) if n else p["set_note"]) if multi else ""
            answer = mp.join(lang, note, p["answer_set"]) if multi else p["answer_one"]
            reasoning = mp.join(lang, note, p["cot_set"]) if multi else p["cot_one"]
            choices = item.choices

            def key(text: str) -> Any:
                if multi:
                    got = extract_choices(text, choices, lang).answer
                    return tuple(got) if got else None
                return extract_choice(text, choices, lang).answer

        if item.images and ctx.is_base_model():
            raise ConfigError(
                f"item {item.id} has images, but the model is a base (completion) model that reads text only"
            )
        return SystemTask(
            variables={
                "question": f"{stem}\n{options}" if options else stem,
                "stem": stem,
                "options": options,
                "answer_instruction": answer,
                "reasoning_instruction": reasoning,
            },
            answer_key=key,
            content=(lambda text: user_content(text, item, self.options.image_position))
            if item.images
            else None,
            temperature=self.options.temperature,
            max_tokens=self.options.max_tokens,
        )

    async def _solve_system(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        """An agent system's answer: the system runs (every call through ``ctx.generate``), and the
        replies it names as final are read like any generated answer by ``score``."""
        if not item.choices and not is_numeric_item(item):
            raise ConfigError(f"item {item.id}: the mcq protocol needs options")
        spec = self.options.system_for(ctx.variant)
        shown, images = await prepare_item(item, ctx, self.options)
        result = await run_system(spec, self.system_task(shown, ctx), ctx)
        out: dict[str, Any] = {"mode": "generate", "system": result.record(spec)}
        if images:
            out["images"] = images
        return out

    async def _solve_probe(self, item: Item, ctx: SolveContext, st: Strategy) -> dict[str, Any]:
        assert item.choices is not None
        probe = st.probe
        letters = list(item.choices)
        rng = random.Random(f"{ctx.seed}:{item.id}:{probe}")
        if probe in ENGLISH_ONLY_PROBES and item.metadata.get("language", langs.DEFAULT) != langs.DEFAULT:
            # An English sentence inserted into (or an English paraphrase of) a Spanish question
            # measures the language switch, not robustness: not applicable.
            return {
                "mode": "completion" if probe == "probe:completion" else "generate",
                "parts": [],
                "applicable": False,
            }
        if probe == "probe:completion":
            return await self._solve_completion(item, ctx)
        mode = self._mode(ctx, parse("zero-shot"), item)
        parts: list[dict[str, Any]] = []
        out: dict[str, Any] = {"mode": mode, "parts": parts}
        if probe == "probe:position":
            n = min(len(letters), self.options.position_shifts or len(letters))
            for s in range(n):
                order = oo.cyclic_order(letters, s)
                shown = item if s == 0 else oo.reorder(item, order)
                await ctx.generate(self.build_request(shown, ctx, mode=mode))
                parts.append({"use": "answer", "order": None if s == 0 else order, "shift": s})
            return out
        shown = item
        hide = None
        applicable = True
        shown_order: list[str] | None = None
        question = item.input if isinstance(item.input, str) else None
        if probe == "probe:options-only":
            hide = "stem"
        elif probe == "probe:stem-only":
            hide = "options"
        elif probe == "perturb:order":
            shown_order = oo.random_order(letters, rng, not_identity=True)
            shown = oo.reorder(item, shown_order)
        elif question is None:
            applicable = False
        else:
            fn = {
                "perturb:typos": perturb.typos,
                "perturb:distractor": perturb.distractor,
                "perturb:units": perturb.units,
            }[probe]  # type: ignore[index]
            new, applicable = fn(question, rng)
            shown = item.model_copy(update={"input": new})
        if not applicable:
            # Nothing to perturb (no quantity with a unit, ...): the item is not asked again under
            # this variant and its sample is counted as not applicable, never as an accuracy.
            out["applicable"] = False
            return out
        await ctx.generate(self.build_request(shown, ctx, mode=mode, hide=hide))
        parts.append({"use": "answer", "order": shown_order})
        out["applicable"] = applicable
        if probe.startswith("perturb:") and probe != "perturb:order":
            out["perturbed"] = shown.input if isinstance(shown.input, str) else None
        return out

    async def _solve_completion(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        question = item.input if isinstance(item.input, str) else None
        split = split_for_completion(question) if question else None
        para, changed = perturb.paraphrase(question) if question else ("", False)
        psplit = split_for_completion(para) if changed else None
        if split is None or psplit is None:
            return {"mode": "completion", "parts": [], "applicable": False}
        parts = []
        for (prefix, tail), use in ((split, "original"), (psplit, "control")):
            await ctx.generate(self._completion_request(prefix, tail, ctx, self.language_of(item)))
            parts.append({"use": use, "tail": tail})
        return {"mode": "completion", "parts": parts, "applicable": True}

    # ------------------------------------------------------------------ scoring
    @staticmethod
    def _read(
        raw: dict[str, Any] | None,
        mode: str,
        choices: dict[str, str],
        language: str = "en",
        multi: bool = False,
    ) -> tuple[Any, float | None, str, str]:
        """(displayed letter, or letters for an answer-set item; its probability in likelihood mode;
        extraction method; reply text)."""
        if mode == "likelihood":
            tops = openai_format.top_logprobs(raw)
            answer, probs = choice_from_logprobs(tops[0] if tops else {}, list(choices))
            return (
                answer,
                (probs.get(answer) if answer else None),
                ("logprob" if answer else "unparseable"),
                "",
            )
        reply = openai_format.text(raw)
        if multi:
            sx = extract_choices(reply, choices, language)
            return sx.answer, None, sx.method, reply
        ex = extract_choice(reply, choices, language)
        return ex.answer, None, ex.method, reply

    @staticmethod
    def _accepted(item: Item) -> list[Any]:
        """The target and any alternative the benchmark's key also accepts (IgakuQA's "a or d")."""
        return [item.target, *item.metadata.get("accept", [])]

    @classmethod
    def correct(cls, answer: Any, item: Item) -> float:
        """1 when the answer is the key (an answer set: exactly the key's set), else 0."""
        if answer is None:
            return 0.0
        if is_set_item(item):
            return float(any(set(answer) == set(t) for t in cls._accepted(item)))
        return float(answer in cls._accepted(item))

    @classmethod
    def hamming(cls, answer: list[str] | None, item: Item) -> float:
        """FrenchMedMCQA's Hamming score of one item: |answer ∩ key| / |answer ∪ key| (0 when unread)."""
        if not answer:
            return 0.0
        a = set(answer)
        return max(len(a & set(t)) / len(a | set(t)) for t in cls._accepted(item))

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        if is_system_variant(variant):
            return self._score_system(item, output, calls)
        st = parse(variant, self.options.shots) if variant != "default" else parse("zero-shot")
        if is_numeric_item(item):
            return self._score_numeric(item, output, calls, st)
        assert item.choices is not None
        mode = output.get("mode", "generate")
        if mode == "completion":
            return self._score_completion(item, output, calls)
        if st.probe and output.get("applicable") is False:
            return Score(
                value=None,
                target=item.target,
                applicable=False,
                explanation=f"{st.probe}: nothing in this item to change, or an English-only edit of "
                "an item in another language (not applicable)",
            )
        multi = is_set_item(item)
        language = self.language_of(item)
        letters = list(item.choices)
        parts = output.get("parts")
        if parts is None:  # runs recorded before strategies composed: one answer call
            parts = [{"use": "answer", "order": None}] * len(calls)
        answers: list[Any] = []
        probs: list[float | None] = []
        verbals: list[float | None] = []
        methods: list[str] = []
        read: list[Any] = []  # as read, before any unparseable_as default
        for part, call in zip(parts, calls, strict=False):
            if part.get("use") != "answer":
                continue
            order = part.get("order") or letters
            shown = oo.reorder(item, order) if part.get("order") else item
            assert shown.choices is not None
            disp, prob, method, reply = self._read(call.raw, mode, shown.choices, language, multi)
            read.append(oo.answer_to_original(disp, order, letters))
            if (
                disp is None
                and mode != "likelihood"
                and not multi
                and self.options.unparseable_as in shown.choices
            ):
                # An upstream grader's default, reproduced on request for a comparison only.
                disp = self.options.unparseable_as
                method = f"unparseable, scored as {disp} (unparseable_as)"
            answers.append(oo.answer_to_original(disp, order, letters))
            probs.append(prob)
            verbals.append(verbal_confidence(reply) if st.verbal else None)
            methods.append(method)
        if st.probe == "probe:position":
            correct = [self.correct(a, item) for a in answers]
            value = sum(correct) / len(correct) if correct else 0.0
            return Score(
                value=value,
                answer=answers,
                target=item.target,
                parsed=bool(read) and all(a is not None for a in read),
                explanation="per cyclic shift: " + ", ".join(methods),
                method=", ".join(methods) or None,
            )
        # sets vote as tuples (hashable), in option order
        keys = [tuple(a) if isinstance(a, list) else a for a in answers]
        won, agreement = majority(keys)
        answer = list(won) if isinstance(won, tuple) else won
        correct_f = self.correct(answer, item)
        confidence: float | None = None
        if st.verbal:
            agreeing = [v for a, v in zip(keys, verbals, strict=True) if a == won and v is not None]
            confidence = sum(agreeing) / len(agreeing) if agreeing else None
        elif len(answers) > 1:
            confidence = agreement if answer is not None else None
        elif probs and probs[0] is not None:
            confidence = probs[0]
        explanation = (
            methods[0]
            if len(methods) == 1
            else f"vote {agreement:.2f} of {len(answers)}: " + ", ".join(answer_text(a) for a in answers)
        )
        if multi and output.get("mode") == "generate" and self.options.mode == "likelihood":
            explanation += " (generated: likelihood mode does not apply to answer sets)"
        values: dict[str, float | None] = {} if st.probe else {"accuracy": correct_f}
        if multi and not st.probe:
            values["hamming_score"] = self.hamming(answer, item)
        points = (
            None
            if st.probe
            else item_points(self.options.exam_score, item.metadata, correct_f, answer is not None)
        )
        if points is not None:
            values["exam_points"] = points[0]
        return Score(
            value=correct_f,
            answer=answer,
            target=item.target,
            parsed=any(a is not None for a in read),
            values=values,
            confidence=confidence,
            explanation=explanation,
            method=", ".join(methods) or None,
        )

    def _score_numeric(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], st: Strategy
    ) -> Score:
        """A numeric-entry question: the number each answer call gives (``scoring/numeric_entry.py``),
        majority vote over the numbers as written, judged against the key and its answer boxes."""
        from medevals.scoring.extract import patterns
        from medevals.scoring.numeric_entry import judge, read_number

        if output.get("applicable") is False:
            return Score(
                value=None,
                target=item.target,
                applicable=False,
                explanation=f"{st.name}: needs options or multiple-choice examples; a numeric-entry "
                "question has none (not applicable)",
            )
        statement = patterns(self.language_of(item)).statement
        numbers = [
            read_number(openai_format.text(c.raw), statement)
            for p, c in zip(output.get("parts") or [], calls, strict=False)
            if p.get("use") == "answer"
        ]
        answer, agreement = majority(numbers)
        box = item.metadata.get("box")
        correct = float(judge(answer, str(item.target), box))
        confidence = None
        if st.verbal:
            replies = [openai_format.text(c.raw) for c in calls]
            confs = [
                v
                for n, r in zip(numbers, replies, strict=False)
                if n == answer and (v := verbal_confidence(r)) is not None
            ]
            confidence = sum(confs) / len(confs) if confs else None
        elif len(numbers) > 1 and answer is not None:
            confidence = agreement
        values: dict[str, float | None] = {"accuracy": correct}
        points = item_points(self.options.exam_score, item.metadata, correct, answer is not None)
        if points is not None:
            values["exam_points"] = points[0]
        return Score(
            value=correct,
            answer=answer,
            target=item.target,
            parsed=answer is not None,
            values=values,
            confidence=confidence,
            explanation=f"numeric entry{f' in boxes {box}' if box else ''}: read {answer!r}",
        )

    def _score_system(self, item: Item, output: dict[str, Any], calls: list[CallRecord]) -> Score:
        """An agent system's final reply (or the majority of its final replies) read by the same
        extraction as any generated answer (a number on a numeric-entry question) and judged by the
        same rule; its calls, tokens and cost as values."""
        system = output.get("system") or {}
        numeric = is_numeric_item(item)
        multi = is_set_item(item)
        language = self.language_of(item)
        answers: list[Any] = []
        methods: list[str] = []
        finals = [calls[i] for i in system.get("final") or [] if isinstance(i, int) and 0 <= i < len(calls)]
        if numeric:
            from medevals.scoring.extract import patterns
            from medevals.scoring.numeric_entry import read_number

            statement = patterns(language).statement
            for c in finals:
                answers.append(read_number(openai_format.text(c.raw), statement))
                methods.append("number" if answers[-1] is not None else "unparseable")
        else:
            assert item.choices is not None
            for c in finals:
                disp, _, method, _ = self._read(c.raw, "generate", item.choices, language, multi)
                answers.append(disp)
                methods.append(method)
        keys = [tuple(a) if isinstance(a, list) else a for a in answers]
        if system.get("aggregate") == "majority":
            won, agreement = majority(keys)
        else:
            won, agreement = (keys[-1] if keys else None), None
        answer = list(won) if isinstance(won, tuple) else won
        if numeric:
            from medevals.scoring.numeric_entry import judge

            correct_f = float(judge(answer, str(item.target), item.metadata.get("box")))
        else:
            correct_f = self.correct(answer, item)
        values: dict[str, float | None] = {"accuracy": correct_f, **usage_values(calls)}
        if multi:
            values["hamming_score"] = self.hamming(answer, item)
        points = item_points(self.options.exam_score, item.metadata, correct_f, answer is not None)
        if points is not None:
            values["exam_points"] = points[0]
        name = system.get("name", "?")
        if len(methods) == 1:
            explanation = f"{name}: {methods[0]}"
        else:
            explanation = f"{name}: vote {agreement or 0:.2f} of {len(answers)}: " + ", ".join(
                "?" if a is None else answer_text(a) for a in answers
            )
        return Score(
            value=correct_f,
            answer=answer,
            target=item.target,
            parsed=any(a is not None for a in answers),
            values=values,
            confidence=agreement if (agreement is not None and answer is not None) else None,
            explanation=explanation,
        )

    @staticmethod
    def _score_completion(item: Item, output: dict[str, Any], calls: list[CallRecord]) -> Score:
        if not output.get("applicable"):
            return Score(
                value=None,
                applicable=False,
                explanation="completion probe: question too short or paraphrase changed nothing",
            )
        found: dict[str, float] = {}
        for part, call in zip(output.get("parts") or [], calls, strict=False):
            found[part["use"]] = completion_overlap(openai_format.text(call.raw), part["tail"])
        o, c = found.get("original", math.nan), found.get("control", math.nan)
        return Score(
            value=None,  # not an accuracy: kept out of the headline, summarised by summarize()
            answer={"original_overlap": o, "control_overlap": c},
            parsed=True,
            values={"completion_overlap": o, "completion_control_overlap": c},
            explanation="completion probe (contamination): overlap of the held-back tail, original vs paraphrase",
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        from medevals.protocols.mcq_summary import summarize

        return summarize(samples, self.variants(), exam_score=self.options.exam_score)
