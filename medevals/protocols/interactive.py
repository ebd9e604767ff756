"""Interactive consultation (MediQ-style): the model under test asks a simulated patient before answering.

Variants, all run on the same items in one run (``--strategy`` picks a subset):

- ``interactive``: the expert (role ``candidate``) sees the initial information, the question
  and the options; each turn it replies ``ASK: <question>``, ``ANSWER: <letter>`` or
  ``ABSTAIN``. A question goes to the patient simulator (``protocols/patient_sim.py``) and its
  reply comes back as the next user turn. After ``max_turns`` questions the expert must answer
  (or abstain). The whole transcript is stored in the sample output.
- ``full``: one answer from the full vignette: the non-interactive upper bound;
- ``initial``: one answer from the initial information only: the lower bound.

The patient is the ``patient`` role when ``--patient-model`` is given, else the deterministic
keyword fact-retrieval patient (no model, reproducible, free); ``--set patient=embedding``
uses embedding retrieval over the facts (``embedder`` role, default builtin:minilm).

Bad format: an expert reply that is none of the three forms (or asks when no questions are
left) gets one repair turn; a second bad reply ends the episode as a *format failure*, scored
wrong with ``parsed=False`` and its transcript kept. A patient that fails twice ends the
episode as a *patient failure*: unscored (the simulator failed, not the model under test).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from medevals.models import openai_format
from medevals.protocols import patient_sim
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.schema import CallRecord, Item, Message, ModelRequest, Sample, Score
from medevals.scoring import consultation
from medevals.scoring.extract import extract_choice
from medevals.scoring.stats import bootstrap_mean, mean_ci

EXPERT_PROMPT_VERSION = "expert-v1"
VARIANTS = ("interactive", "full", "initial")
VARIANT_LABELS = {
    "interactive": "interactive (asks the patient)",
    "full": "full vignette (upper bound)",
    "initial": "initial information only (lower bound)",
}

EXPERT_SYSTEM = (
    "You are a doctor who must answer a multiple-choice question about a patient, but at first you know "
    "only part of the case. You may ask the patient questions, one at a time, to learn more. Reply with "
    "exactly one line in one of these forms:\n"
    "ASK: <one question for the patient>\n"
    "ANSWER: <letter of the option>\n"
    "{abstain_form}"
    "Ask only what could change your choice, and answer as soon as you are confident."
)
ABSTAIN_FORM = "ABSTAIN (only if, even after asking, you cannot choose an option with confidence)\n"
CASE = "Initial information: {initial_info}\n{question_block}\n\n{budget}"
BUDGET = "You may ask up to {n} more questions."
NO_BUDGET = "You may not ask more questions: reply ANSWER: <letter>{or_abstain}."
#: Base models copy "<letter>"-style placeholders verbatim, so their prompts state the format in words.
BASE_SYSTEM = (
    "A doctor consults a patient to answer a multiple-choice question. The doctor knows only part of the "
    "case at first. Each doctor line is either ASK: followed by one question for the patient, ANSWER: "
    "followed by the letter of the chosen option{or_abstain}."
)
BASE_NO_BUDGET = "You may not ask more questions."
BASE_BOUND_SYSTEM = (
    "A doctor answers a multiple-choice question about a patient with one line: ANSWER: followed by the "
    "letter of the chosen option."
)
PATIENT_TURN = "Patient: {reply}\n\n{budget}"
REPAIR = "Your reply did not follow the format. Reply with exactly one line: {forms}."
PROBE = "Pause the consultation: which option would you choose now? Reply with one line: ANSWER: <letter>."
#: Shown to base models (no chat training) before an interactive case: the reply format in use.
BASE_EXAMPLE = (
    "Example consultation:\n"
    "Initial information: A 25-year-old woman comes to the clinic because of a sore throat.\n"
    "Question: Which of the following is the most likely diagnosis?\n"
    "Options:\nA. Streptococcal pharyngitis\nB. Infectious mononucleosis\nC. Peritonsillar abscess\n"
    "D. Common cold\n\n{budget2}\n"
    "Doctor: ASK: Have you had a fever?\n"
    "Patient: Yes, a high fever for two days.\n\n{budget1}\n"
    "Doctor: ASK: Do you have a cough?\n"
    "Patient: No, I have no cough.\n\n" + BASE_NO_BUDGET + "\n"
    "Doctor: ANSWER: A\n\n"
    "Now the real consultation:\n"
)
BOUND_SYSTEM = (
    "You are a doctor answering a multiple-choice question about a patient. "
    "Reply with exactly one line: ANSWER: <letter of the option>."
)
BOUND_CASE = "Patient information: {info}\n{question_block}"


class InteractiveOptions(ProtocolOptions):
    max_turns: int = Field(10, ge=0, le=100, description="questions the expert may ask before it must answer")
    strategy: list[str] = Field(default_factory=lambda: list(VARIANTS))
    patient: Literal["auto", "model", "keyword", "embedding"] = "auto"
    patient_top_k: int = Field(2, ge=1, le=20, description="facts a retrieval patient returns per question")
    min_similarity: float = Field(0.4, ge=-1.0, le=1.0, description="cosine floor for the embedding patient")
    abstain: bool = True
    probe: bool = False
    elicit_threshold: float = Field(0.5, gt=0.0, le=1.0, description="fact word share that counts as stated")
    max_tokens: int = Field(96, ge=1)
    patient_max_tokens: int = Field(64, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)

    _split = field_validator("strategy", mode="before")(comma_list)

    @field_validator("strategy")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in VARIANTS:
                raise ValueError(f"unknown variant '{s}' ({', '.join(VARIANTS)})")
        if not v:
            raise ValueError("at least one variant")
        return list(dict.fromkeys(v))

    @property
    def requires_patient(self) -> bool:
        """Checked by ``prepare``: ``patient=model`` without ``--patient-model`` fails before any call."""
        return self.patient == "model"


# --------------------------------------------------------------------------- reading expert replies


@dataclass(frozen=True)
class Action:
    kind: Literal["ask", "test", "answer", "abstain", "invalid"]
    question: str | None = None
    answer: str | None = None
    method: str = ""


_MARKER = re.compile(r"^[\s*#>_`-]*(ASK|ANSWER|ABSTAIN)\b[*_`]*\s*[:\-]?\s*(.*)$", re.I | re.M)
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)


def parse_action(text: str, choices: dict[str, str], *, allow_ask: bool, allow_abstain: bool) -> Action:
    """Read one expert reply. The first ASK/ANSWER/ABSTAIN line wins; without one, a line ending in
    "?" is a question and otherwise ``extract_choice`` may still find a stated answer."""
    text = _THINK.sub(" ", (text or "").replace("<|im_end|>", " ").replace("<end_of_turn>", " ")).strip()
    if not text:
        return Action("invalid", method="empty reply")
    m = _MARKER.search(text)
    if m:
        kind, rest = m.group(1).upper(), m.group(2).strip()
        if kind == "ASK":
            if not allow_ask:
                return Action("invalid", method="asked with no questions left")
            rest = rest.strip("*_` ")
            return (
                Action("ask", question=rest, method="ask") if rest else Action("invalid", method="empty ASK")
            )
        if kind == "ABSTAIN":
            if not allow_abstain:
                return Action("invalid", method="abstained though abstention is off")
            return Action("abstain", method="abstain")
        ex = extract_choice(rest, choices)
        if ex.answer is None:
            return Action("invalid", method="ANSWER without a readable option")
        return Action("answer", answer=ex.answer, method=f"answer:{ex.method}")
    first = next(ln.strip() for ln in text.splitlines() if ln.strip())
    if allow_ask and first.endswith("?"):
        return Action("ask", question=first, method="bare question")
    ex = extract_choice(text, choices)
    if ex.answer is not None:
        return Action("answer", answer=ex.answer, method=f"free:{ex.method}")
    return Action("invalid", method="no ASK, ANSWER or ABSTAIN")


def question_block(item: Item) -> str:
    question = item.input if isinstance(item.input, str) else str(item.input)
    opts = "\n".join(f"{k}. {v}" for k, v in (item.choices or {}).items())
    return f"Question: {question}\nOptions:\n{opts}"


# --------------------------------------------------------------------------- the protocol


class InteractiveProtocol(Protocol):
    name = "interactive"
    primary_metric = "accuracy"
    Options = InteractiveOptions
    options: InteractiveOptions
    roles = ("patient", "embedder")

    def single_turn_obstacle(self, variant: str) -> str | None:
        return "a consultation makes several model turns (questions, the answer, format repairs)"

    def variants(self) -> list[str]:
        return list(self.options.strategy)

    def default_roles(self) -> dict[str, str]:
        return {"embedder": "builtin:minilm"} if self.options.patient == "embedding" else {}

    def templates(self) -> dict[str, str]:
        return {
            "expert_version": EXPERT_PROMPT_VERSION,
            "expert_system": self._system(),
            "case": CASE,
            "budget": BUDGET,
            "no_budget": NO_BUDGET,
            "patient_turn": PATIENT_TURN,
            "repair": REPAIR,
            "probe": PROBE,
            "base_model_system": self._base_system(),
            "base_model_example": self._base_example(),
            "base_model_no_budget": BASE_NO_BUDGET,
            "base_model_bound_system": BASE_BOUND_SYSTEM,
            "bound_system": BOUND_SYSTEM,
            "bound_case": BOUND_CASE,
            "patient_version": patient_sim.PATIENT_PROMPT_VERSION,
            "patient_system": patient_sim.PATIENT_SYSTEM,
            "patient_repair": patient_sim.PATIENT_REPAIR,
        }

    def _system(self) -> str:
        return EXPERT_SYSTEM.format(abstain_form=ABSTAIN_FORM if self.options.abstain else "")

    def _patient_mode(self, ctx: SolveContext) -> str:
        mode = self.options.patient
        if mode == "auto":
            return "model" if ctx.has_role("patient") else "keyword"
        return mode

    def _budget(self, left: int, base: bool = False) -> str:
        if left > 0:
            return BUDGET.format(n=left)
        if base:
            return BASE_NO_BUDGET
        return NO_BUDGET.format(or_abstain=" or ABSTAIN" if self.options.abstain else "")

    def _forms(self, allow_ask: bool) -> str:
        forms = (["ASK: <question>"] if allow_ask else []) + [self._answer_form()]
        if self.options.abstain:
            forms.append("ABSTAIN")
        return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else forms[0]

    def _request(self, ctx: SolveContext, messages: list[Message], prefill: str = "") -> ModelRequest:
        """Chat models get the conversation; base models a transcript ending in ``Doctor:``.

        A base model also sees a worked example of the reply format (``BASE_EXAMPLE``) before an
        interactive case, and ``prefill`` (e.g. "ANSWER:") is written after ``Doctor:`` for it.
        """
        o = self.options
        if ctx.is_base_model():
            lines = []
            for m in messages:
                if m["role"] == "system":
                    if m["content"] == self._system():
                        lines.append(self._base_system())
                        lines.append(self._base_example())
                    elif m["content"] == self._bound_system():
                        lines.append(f"{self._base_bound_system()}\n")
                    else:
                        lines.append(f"{m['content']}\n")
                elif m["role"] == "user":
                    lines.append(str(m["content"]))
                else:
                    lines.append(f"Doctor: {m['content']}")
            prompt = "\n".join(lines) + "\nDoctor:" + (f" {prefill}" if prefill else "")
            body = {
                "prompt": prompt,
                "max_tokens": o.max_tokens,
                "temperature": o.temperature,
                "stop": ["\n"],
            }
            return ModelRequest(kind="completion", body=body)
        return ModelRequest(
            kind="chat",
            # a copy: the conversation list grows after this call and the record must keep what was sent
            body={"messages": list(messages), "max_tokens": o.max_tokens, "temperature": o.temperature},
        )

    def _base_system(self) -> str:
        return BASE_SYSTEM.format(or_abstain=", or ABSTAIN" if self.options.abstain else "") + "\n"

    def _base_example(self) -> str:
        return BASE_EXAMPLE.format(budget2=BUDGET.format(n=2), budget1=BUDGET.format(n=1))

    # Hooks a protocol built on this one overrides (AgentClinic: free-text diagnosis, test requests).

    def parse_reply(self, text: str, item: Item, *, allow_ask: bool, allow_abstain: bool) -> Action:
        """Read one expert reply (stored transcripts are re-read with it at scoring time)."""
        return parse_action(text, item.choices or {}, allow_ask=allow_ask, allow_abstain=allow_abstain)

    def _answer_form(self) -> str:
        return "ANSWER: <letter>"

    def _answer_prefill(self) -> str:
        return "ANSWER:"

    def _bound_system(self) -> str:
        return BOUND_SYSTEM

    def _base_bound_system(self) -> str:
        return BASE_BOUND_SYSTEM

    def _bound_messages(self, item: Item, variant: str) -> list[Message]:
        """The one-shot bound's conversation: the full vignette or the initial information only."""
        info = (item.context if variant == "full" else item.metadata.get("initial_info")) or "(none given)"
        return [
            {"role": "system", "content": self._bound_system()},
            {"role": "user", "content": BOUND_CASE.format(info=info, question_block=question_block(item))},
        ]

    async def _call(self, ctx: SolveContext, messages: list[Message], prefill: str = "") -> str:
        """One expert call; the reply text, with the prefill a base model continued from put back."""
        rec = await ctx.generate(self._request(ctx, messages, prefill))
        text = openai_format.text(rec.raw).strip()
        if prefill and ctx.is_base_model():
            text = f"{prefill} {text}"
        return text

    async def _ask_expert(
        self,
        ctx: SolveContext,
        messages: list[Message],
        item: Item,
        transcript: list[dict[str, Any]],
        allow_ask: bool,
        repair: bool = True,
    ) -> tuple[Action, str]:
        """One expert turn with at most one repair (none with ``repair=False``); appends to
        ``messages`` and ``transcript``."""
        allow_abstain = self.options.abstain
        for attempt in range(2):
            text = await self._call(ctx, messages)
            action = self.parse_reply(text, item, allow_ask=allow_ask, allow_abstain=allow_abstain)
            _record_expert_turn(transcript, messages, text, action, repair=attempt > 0)
            if action.kind != "invalid" or not repair:
                return action, text
            if attempt == 0:
                note = REPAIR.format(forms=self._forms(allow_ask))
                messages.append({"role": "user", "content": note})
                transcript.append({"role": "harness", "text": note})
        return action, text

    async def _probe(self, ctx: SolveContext, messages: list[Message], item: Item) -> str | None:
        rec = await ctx.generate(self._request(ctx, [*messages, {"role": "user", "content": PROBE}]))
        action = self.parse_reply(openai_format.text(rec.raw), item, allow_ask=False, allow_abstain=False)
        return action.answer

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        if ctx.variant == "interactive":
            return await self._consult(item, ctx)
        return await self._bound(item, ctx, ctx.variant)

    async def _bound(self, item: Item, ctx: SolveContext, variant: str) -> dict[str, Any]:
        messages = self._bound_messages(item, variant)
        transcript: list[dict[str, Any]] = []
        action, text = await self._ask_expert_bound(ctx, messages, item, transcript)
        stop = "answer" if action.kind == "answer" else "format_failure"
        return {
            "variant": variant,
            "stop": stop,
            "questions": 0,
            "final_reply": text,
            "transcript": transcript,
        }

    async def _ask_expert_bound(
        self, ctx: SolveContext, messages: list[Message], item: Item, transcript: list[dict[str, Any]]
    ) -> tuple[Action, str]:
        for attempt in range(2):
            text = await self._call(ctx, messages, prefill=self._answer_prefill())
            action = self.parse_reply(text, item, allow_ask=False, allow_abstain=False)
            _record_expert_turn(transcript, messages, text, action, repair=attempt > 0)
            if action.kind == "answer":
                return action, text
            if attempt == 0:
                note = REPAIR.format(forms=self._answer_form())
                messages.append({"role": "user", "content": note})
                transcript.append({"role": "harness", "text": note})
        return action, text

    async def _consult(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        o = self.options
        facts: list[str] = list(item.metadata.get("facts", []))
        mode = self._patient_mode(ctx)
        base = ctx.is_base_model()
        case = CASE.format(
            initial_info=item.metadata.get("initial_info") or "(none given)",
            question_block=question_block(item),
            budget=self._budget(o.max_turns, base),
        )
        messages: list[Message] = [
            {"role": "system", "content": self._system()},
            {"role": "user", "content": case},
        ]
        transcript: list[dict[str, Any]] = [{"role": "case", "text": case}]
        revealed: set[int] = set()
        probes: list[list[Any]] = []
        questions = 0
        out: dict[str, Any] = {"variant": "interactive", "patient": mode, "max_turns": o.max_turns}
        while True:
            can_ask = questions < o.max_turns
            if o.probe and can_ask:
                probes.append([questions, await self._probe(ctx, messages, item)])
            action, text = await self._ask_expert(ctx, messages, item, transcript, allow_ask=can_ask)
            if action.kind == "invalid":
                stop, final = "format_failure", text
                break
            if action.kind in ("answer", "abstain"):
                stop, final = action.kind, text
                break
            assert action.question is not None
            questions += 1
            reply = await self._patient(ctx, item, action.question, facts, mode)
            transcript.append(
                {
                    "role": "patient",
                    "text": reply.text,
                    "facts": reply.facts,
                    "repaired": reply.repaired,
                    **({"attempts": reply.attempts} if reply.repaired else {}),
                    **({"problem": reply.problem} if reply.problem else {}),
                }
            )
            if not reply.ok:
                stop, final = "patient_failure", None
                out["problem"] = reply.problem
                break
            if reply.facts is not None:
                revealed.update(reply.facts)
            messages.append(
                {
                    "role": "user",
                    "content": PATIENT_TURN.format(
                        reply=reply.text, budget=self._budget(o.max_turns - questions, base)
                    ),
                }
            )
        out.update(
            stop=stop,
            questions=questions,
            forced=stop in ("answer", "abstain") and questions >= o.max_turns,
            final_reply=final,
            revealed=sorted(revealed) if mode != "model" else None,
            transcript=transcript,
        )
        if o.probe:
            out["probes"] = probes
        return out

    async def _patient(
        self, ctx: SolveContext, item: Item, question: str, facts: list[str], mode: str
    ) -> patient_sim.PatientReply:
        o = self.options
        if mode == "model":
            return await patient_sim.model_reply(ctx, item, question, o.patient_max_tokens)
        if mode == "embedding":
            return await patient_sim.embedding_reply(ctx, question, facts, o.patient_top_k, o.min_similarity)
        return patient_sim.keyword_reply(question, facts, o.patient_top_k)

    # ----------------------------------------------------------------------- scoring

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        variant = output.get("variant", variant)
        stop = output.get("stop")
        acc_key = {"interactive": "accuracy_interactive", "full": "accuracy_full_vignette"}.get(
            variant, "accuracy_initial_info"
        )
        if stop == "patient_failure":
            return Score(
                value=None,
                target=item.target,
                values={"patient_failure": 1.0},
                explanation=f"patient failure: {output.get('problem')}",
            )
        action = Action("invalid", method=_last_parse(output))
        if stop in ("answer", "abstain"):
            is_bound = variant != "interactive"
            action = parse_action(
                output.get("final_reply") or "",
                item.choices or {},
                allow_ask=False,
                allow_abstain=self.options.abstain and not is_bound,
            )
        correct = float(action.kind == "answer" and action.answer == item.target)
        values: dict[str, float | None] = {acc_key: correct}
        if variant == "interactive":
            questions = int(output.get("questions", 0))
            facts = list(item.metadata.get("facts", []))
            relevant = consultation.relevant_facts(
                facts, item.metadata.get("initial_info") or "", self.options.elicit_threshold
            )
            revealed = self.revealed_facts(item, output)
            share = consultation.share_elicited(revealed, relevant)
            n_rel = len(set(relevant) & set(revealed))
            values.update(
                questions_asked=float(questions),
                abstained=float(action.kind == "abstain"),
                format_failure=float(action.kind == "invalid"),
                patient_failure=0.0,
                facts_elicited=share,
                relevant_facts_per_question=(n_rel / questions) if questions else None,
            )
        return Score(
            value=correct,
            answer=action.answer,
            target=item.target,
            parsed=action.kind != "invalid",
            values=values,
            explanation=action.method if action.kind != "invalid" else f"format failure: {action.method}",
            method=action.method or None,
        )

    def revealed_facts(self, item: Item, output: dict[str, Any]) -> list[int]:
        """Facts the patient revealed: known exactly for retrieval patients, matched in the text for a model."""
        if output.get("revealed") is not None:
            return list(output["revealed"])
        said = " ".join(t["text"] for t in output.get("transcript", []) if t.get("role") == "patient")
        return consultation.facts_in_text(item.metadata.get("facts", []), said, self.options.elicit_threshold)

    # ----------------------------------------------------------------------- aggregates

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        by_variant: dict[str, list[Sample]] = defaultdict(list)
        for s in samples:
            by_variant[s.variant].append(s)
        rows = []
        bounds: dict[str, float] = {}
        for v in [x for x in VARIANTS if x in by_variant]:
            ss = by_variant[v]
            scored = [s for s in ss if s.score is not None and s.score.value is not None]
            acc = mean_ci([s.score.value for s in scored if s.score and s.score.value is not None])
            if scored:
                bounds[v] = float(acc["value"])
            fmt_fail = sum(1 for s in scored if s.score and not s.score.parsed)
            pat_fail = sum(1 for s in ss if s.output.get("stop") == "patient_failure")
            errors = sum(1 for s in ss if s.error)
            row: list[Any] = [VARIANT_LABELS[v], len(scored), acc]
            if v == "interactive":
                answered = [
                    s for s in scored if s.output.get("stop") == "answer" and s.score and s.score.parsed
                ]
                q = [float(s.output.get("questions", 0)) for s in scored]
                shares = [
                    s.score.values["facts_elicited"]
                    for s in scored
                    if s.score and s.score.values.get("facts_elicited") is not None
                ]
                abst = [float(s.output.get("stop") == "abstain") for s in scored]
                row += [
                    _mean(q),
                    mean_ci(abst) if abst else "",
                    mean_ci([s.score.value for s in answered if s.score and s.score.value is not None])
                    if answered
                    else "",
                    _mean(shares),
                ]
            else:
                row += [0, "", "", ""]
            row += [fmt_fail, pat_fail, errors]
            rows.append(row)
        tables: list[dict[str, Any]] = [
            {
                "title": "Interactive consultation and its non-interactive bounds (same items)",
                "columns": [
                    "setting",
                    "n scored",
                    "accuracy",
                    "mean questions",
                    "abstention rate",
                    "accuracy when answering",
                    "share of relevant facts elicited",
                    "format failures",
                    "patient failures",
                    "errors",
                ],
                "rows": rows,
            }
        ]
        extra: dict[str, Any] = {"tables": tables, "accuracy_by_variant": bounds}
        inter = [
            s for s in by_variant.get("interactive", []) if s.score is not None and s.score.value is not None
        ]
        if not inter:
            return extra
        by_k = consultation.accuracy_by_questions(
            (int(s.output.get("questions", 0)), float(s.score.value))
            for s in inter
            if s.score and s.score.value is not None
        )
        tables.append(
            {
                "title": "Interactive accuracy by number of questions asked before stopping",
                "columns": ["questions asked", "episodes", "share of episodes", "accuracy"],
                "rows": [[k, len(v), len(v) / len(inter), mean_ci(v)] for k, v in by_k.items()],
            }
        )
        stops: dict[str, int] = defaultdict(int)
        for s in by_variant["interactive"]:
            stops[s.output.get("stop") or ("error" if s.error else "unknown")] += 1
        tables.append(
            {
                "title": "How interactive episodes ended",
                "columns": ["end", "episodes"],
                "rows": [[k, n] for k, n in sorted(stops.items())],
            }
        )
        x_max = max([self.options.max_turns, *by_k])
        series = [
            {
                "name": "interactive: episodes that stopped after k questions",
                "points": [[k, sum(v) / len(v)] for k, v in by_k.items()],
            }
        ]
        curve = None
        if any("probes" in s.output for s in inter):
            eps = []
            for s in inter:
                probes = {int(k): float(a == s.item.target) for k, a in s.output.get("probes", [])}
                eps.append((int(s.output.get("questions", 0)), float(s.score.value or 0.0), probes))
            curve = consultation.accuracy_at_budget(eps, self.options.max_turns)
            series.append(
                {
                    "name": "interactive: answer after at most k questions",
                    "points": [[k, a] for k, a, _ in curve],
                }
            )
        n_curves = len(series)
        for v in ("full", "initial"):
            if v in bounds:
                series.append({"name": VARIANT_LABELS[v], "points": [[0, bounds[v]], [x_max, bounds[v]]]})
        # The same points as a table (the report renders extra.tables): curves at each k, bounds flat.
        lookups = [{int(x): y for x, y in sr["points"]} for sr in series[:n_curves]]
        flat = [sr["points"][0][1] for sr in series[n_curves:]]
        tables.append(
            {
                "title": "Accuracy vs number of questions asked, with the non-interactive bounds",
                "columns": ["questions k", *[sr["name"] for sr in series]],
                "rows": [
                    [k, *[_pct(lk.get(k)) for lk in lookups], *[_pct(b) for b in flat]]
                    for k in range(x_max + 1)
                ],
            }
        )
        paired = _paired_differences(by_variant)
        if paired:
            tables.append(
                {
                    "title": "Same items, paired: accuracy difference between settings",
                    "columns": ["difference", "item pairs", "mean difference (95% bootstrap CI)"],
                    "rows": [[name, d["n"], d] for name, d in paired.items()],
                }
            )
            extra["paired_differences"] = paired
        extra["plots"] = [
            {
                "title": "Accuracy vs number of questions asked",
                "kind": "line",
                "x_label": "questions asked",
                "y_label": "accuracy",
                "series": series,
            }
        ]
        extra["accuracy_by_questions"] = {str(k): sum(v) / len(v) for k, v in by_k.items()}
        if curve is not None:
            extra["accuracy_at_budget"] = [{"k": k, "accuracy": a, "n": n} for k, a, n in curve]
        return extra


def _last_parse(output: dict[str, Any]) -> str:
    """Why the last expert reply of a failed episode was unreadable (as recorded in its transcript)."""
    for turn in reversed(output.get("transcript", [])):
        if turn.get("role") == "expert":
            return str(turn.get("parse", ""))
    return "no expert reply"


def _paired_differences(by_variant: dict[str, list[Sample]]) -> dict[str, dict[str, Any]]:
    """Per-item accuracy differences between settings (same item and repeat, both scored)."""
    return _paired_differences_between(
        by_variant,
        [
            ("interactive - initial information (gain from asking)", "interactive", "initial"),
            ("full vignette - interactive (left to gain)", "full", "interactive"),
        ],
    )


def _paired_differences_between(
    by_variant: dict[str, list[Sample]], pairs: list[tuple[str, str, str]]
) -> dict[str, dict[str, Any]]:
    """For each (name, variant a, variant b): mean of a - b over the items scored under both."""

    def scores(v: str) -> dict[tuple[str, int], float]:
        return {
            (s.item.id, s.repeat): float(s.score.value)
            for s in by_variant.get(v, [])
            if s.score is not None and s.score.value is not None
        }

    out: dict[str, dict[str, Any]] = {}
    for name, a, b in pairs:
        hi, lo = scores(a), scores(b)
        keys = sorted(set(hi) & set(lo))
        if keys:
            # Differences lie in [-1, 1]: always a bootstrap CI (mean_ci would take 0/1 data as a proportion).
            diffs = [hi[k] - lo[k] for k in keys]
            low, high = bootstrap_mean(diffs)
            out[name] = {
                "value": sum(diffs) / len(diffs),
                "ci_low": low,
                "ci_high": high,
                "n": len(diffs),
                "ci_method": "bootstrap",
            }
    return out


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def _mean(vals: list[float]) -> float | str:
    return round(sum(vals) / len(vals), 4) if vals else ""


def _record_expert_turn(
    transcript: list[dict[str, Any]], messages: list[Message], text: str, action: Action, *, repair: bool
) -> None:
    """Keep one expert reply in the stored transcript and in the conversation sent next."""
    transcript.append(
        {"role": "expert", "text": text, "action": action.kind, "parse": action.method, "repair": repair}
    )
    messages.append({"role": "assistant", "content": text})
