"""Simulated patients (and AgentClinic's measurement reader) for the interactive protocols.

All three patients answer one doctor question at a time from the case's atomic facts only, and
none sees the answer options or the reference diagnosis, so none can volunteer the answer except
by stating a fact.

- ``model``: the ``patient`` role (``--patient-model``) paraphrases the facts that answer the
  question, under the versioned prompt below, or says it does not know. Its reply is checked:
  an empty reply, or one naming an answer option that appears nowhere in the case, gets one
  repair turn, then the episode is a recorded patient failure (unscored, never a crash).
- ``keyword``: no model; returns the facts sharing the most (IDF-weighted) content words with
  the question (``scoring.consultation.rank_facts``). Reproducible and free: the default
  when no ``--patient-model`` is given.
- ``embedding``: no generation; embeds the facts and the question with the ``embedder`` role
  (default ``builtin:minilm``) and returns the facts above a cosine-similarity floor.

The measurement reader (AgentClinic's measurement agent) answers a test request from the case's
examination findings and test results (``metadata.results``) only, as ``RESULTS: ...`` or
``RESULTS: NORMAL READINGS`` when nothing matches (upstream's convention):

- ``model``: the ``measurement`` role under the versioned prompt below (one repair turn on an
  empty reply or one naming the reference diagnosis that its results do not state);
- ``keyword``: no model; the result lines with the best IDF-weighted overlap with the request
  (every line tied at the best score, so "complete blood count" returns the whole count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medevals.models import openai_format
from medevals.schema import Item, ModelRequest
from medevals.scoring.consultation import rank_facts

if TYPE_CHECKING:
    from medevals.protocols.base import SolveContext

PATIENT_PROMPT_VERSION = "patient-v1"
DONT_KNOW = "I don't know."

PATIENT_SYSTEM = (
    "You are a patient talking to a doctor. Answer the doctor's question truthfully in one or two short "
    "sentences, in the first person, using only the facts below. If the facts do not answer the question, "
    'reply exactly: "I don\'t know." Never guess, never name a diagnosis, test result or treatment that is '
    "not in the facts, and do not tell more than the question asks.\n\nFacts:\n{facts}"
)
MEASUREMENT_PROMPT_VERSION = "measurement-v1"
NORMAL_READINGS = "RESULTS: NORMAL READINGS"
MEASUREMENT_SYSTEM = (
    "You are a measurement reader who reports a patient's examination findings and test results to a "
    'doctor. Reply with "RESULTS:" followed by the results of the examination or test the doctor requests, '
    "copied from the list below. If the list holds no result for that request, reply exactly "
    '"RESULTS: NORMAL READINGS". Do not interpret the results, and never name a diagnosis the list does '
    "not state.\n\nResults:\n{results}"
)
MEASUREMENT_REPAIR = (
    'Reply with "RESULTS:" followed only by results from the list that answer the request, or exactly '
    '"RESULTS: NORMAL READINGS". Do not name any diagnosis that is not in the list. Reply again.'
)
PATIENT_REPAIR = (
    "Your reply must be one or two sentences stating only facts from the list that answer the question, "
    'or exactly "I don\'t know." Do not name any diagnosis or treatment that is not in the facts. '
    "Reply again."
)


@dataclass
class PatientReply:
    text: str
    #: Indices of the facts revealed, when the patient knows them (retrieval patients); None for a model.
    facts: list[int] | None = None
    ok: bool = True
    problem: str | None = None
    repaired: bool = False
    attempts: list[str] = field(default_factory=list)


def _fact_list(facts: list[str]) -> str:
    return "\n".join(f"{i + 1}. {f}" for i, f in enumerate(facts)) or "(none)"


def keyword_reply(question: str, facts: list[str], top_k: int) -> PatientReply:
    ranked = rank_facts(question, facts)[:top_k]
    if not ranked:
        return PatientReply(DONT_KNOW, facts=[])
    idx = sorted(i for i, _ in ranked)
    return PatientReply(" ".join(facts[i] for i in idx), facts=idx)


async def embedding_reply(
    ctx: SolveContext, question: str, facts: list[str], top_k: int, min_similarity: float
) -> PatientReply:
    if not facts:
        return PatientReply(DONT_KNOW, facts=[])
    rec = await ctx.generate(
        ModelRequest(kind="embedding", body={"input": [question, *facts]}), role="embedder"
    )
    vecs = openai_format.embeddings(rec.raw)
    if len(vecs) != len(facts) + 1:
        return PatientReply(
            "", ok=False, problem=f"embedder returned {len(vecs)} vectors for {len(facts) + 1} texts"
        )
    q = vecs[0]
    sims = [(i, _cosine(q, v)) for i, v in enumerate(vecs[1:])]
    best = sorted((s for s in sims if s[1] >= min_similarity), key=lambda x: (-x[1], x[0]))[:top_k]
    if not best:
        return PatientReply(DONT_KNOW, facts=[])
    idx = sorted(i for i, _ in best)
    return PatientReply(" ".join(facts[i] for i in idx), facts=idx)


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def volunteered_option(reply: str, item: Item) -> str | None:
    """The letter of an answer option the reply names although nothing in the case states it."""
    said = f" {_norm(reply)} "
    case = f" {_norm(' '.join([item.context or '', *item.metadata.get('facts', [])]))} "
    for letter, text in (item.choices or {}).items():
        opt = _norm(text)
        if len(opt) >= 4 and f" {opt} " in said and f" {opt} " not in case:
            return letter
    return None


def volunteered_diagnosis(reply: str, item: Item, known: list[str]) -> bool:
    """Whether the reply names the item's reference diagnosis (a free-text target) although none of
    ``known`` (what this simulator was shown) states it: it can only have guessed it."""
    if item.choices or not isinstance(item.target, str):
        return False
    target = _norm(item.target)
    return (
        len(target) >= 4
        and f" {target} " in f" {_norm(reply)} "
        and f" {target} " not in f" {_norm(' '.join(known))} "
    )


def _clean_reply(text: str) -> str:
    text = text.replace("<|im_end|>", " ").replace("<end_of_turn>", " ")
    text = re.split(r"\n\s*(?:doctor|patient)\s*:", text, maxsplit=1, flags=re.I)[0]
    return text.strip().strip('"').strip()


def _sim_request(
    ctx: SolveContext,
    role: str,
    system: str,
    question: str,
    repair_of: str | None,
    repair: str,
    max_tokens: int,
) -> ModelRequest:
    """A simulator's request: chat, or for a base model a ``Doctor:``/reply transcript."""
    speaker = "Patient" if role == "patient" else "Measurement"
    if ctx.is_base_model(role):
        prompt = f"{system}\n\nDoctor: {question}\n{speaker}:"
        if repair_of is not None:
            prompt += f" {repair_of}\n({repair})\n{speaker}:"
        return ModelRequest(
            kind="completion",
            body={"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stop": ["\n"]},
        )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": question},
    ]
    if repair_of is not None:
        messages += [{"role": "assistant", "content": repair_of}, {"role": "user", "content": repair}]
    return ModelRequest(
        kind="chat", body={"messages": messages, "max_tokens": max_tokens, "temperature": 0.0}
    )


def _patient_request(
    ctx: SolveContext, item: Item, question: str, repair_of: str | None, max_tokens: int
) -> ModelRequest:
    system = PATIENT_SYSTEM.format(facts=_fact_list(item.metadata.get("facts", [])))
    return _sim_request(ctx, "patient", system, question, repair_of, PATIENT_REPAIR, max_tokens)


async def _checked_reply(
    ctx: SolveContext, role: str, system: str, question: str, repair: str, max_tokens: int, problem_of: Any
) -> PatientReply:
    """Ask a simulator model; one repair turn when ``problem_of(text)`` names a problem."""
    attempts: list[str] = []
    problem = None
    for attempt in range(2):
        req = _sim_request(
            ctx, role, system, question, attempts[-1] if attempts else None, repair, max_tokens
        )
        rec = await ctx.generate(req, role=role)
        text = _clean_reply(openai_format.text(rec.raw))
        attempts.append(text)
        problem = problem_of(text)
        if problem is None:
            return PatientReply(text, facts=None, repaired=attempt > 0, attempts=attempts)
    return PatientReply(attempts[-1], ok=False, problem=problem, repaired=True, attempts=attempts)


async def model_reply(ctx: SolveContext, item: Item, question: str, max_tokens: int) -> PatientReply:
    """Ask the patient model; one repair turn on an empty or answer-volunteering reply."""
    facts = list(item.metadata.get("facts", []))

    def problem_of(text: str) -> str | None:
        if not text:
            return "empty reply"
        if (letter := volunteered_option(text, item)) is not None:
            return f"named answer option {letter}, which the case does not state"
        if volunteered_diagnosis(text, item, facts):
            return "named the reference diagnosis, which its facts do not state"
        return None

    system = PATIENT_SYSTEM.format(facts=_fact_list(facts))
    return await _checked_reply(ctx, "patient", system, question, PATIENT_REPAIR, max_tokens, problem_of)


def keyword_results(request: str, results: list[str]) -> PatientReply:
    """The result lines tied at the best IDF-weighted overlap with the request, in case order."""
    ranked = rank_facts(request, results)
    if not ranked:
        return PatientReply(NORMAL_READINGS, facts=[])
    best = ranked[0][1]
    idx = sorted(i for i, s in ranked if s >= best - 1e-9)
    return PatientReply("RESULTS: " + "; ".join(results[i] for i in idx), facts=idx)


async def model_results(
    ctx: SolveContext, item: Item, request: str, max_tokens: int, role: str = "measurement"
) -> PatientReply:
    """Ask the measurement model (role ``measurement``); one repair turn on an empty reply or one
    naming the reference diagnosis that its results do not state."""
    results = list(item.metadata.get("results", []))

    def problem_of(text: str) -> str | None:
        if not text:
            return "empty reply"
        if volunteered_diagnosis(text, item, results):
            return "named the reference diagnosis, which its results do not state"
        return None

    system = MEASUREMENT_SYSTEM.format(results=_fact_list(results))
    return await _checked_reply(ctx, role, system, request, MEASUREMENT_REPAIR, max_tokens, problem_of)
