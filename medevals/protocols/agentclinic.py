"""AgentClinic: the doctor interviews a patient agent, orders tests from a measurement agent, names a diagnosis.

Built on the interactive protocol (``protocols/interactive.py``): the same roles, patients, bounds,
request building for chat and base models, repair turns and transcript layout, with AgentClinic's
action language and a free-text diagnosis. Upstream (``SamuelSchmidgall/AgentClinic@b6570ed``,
``agentclinic.py``) is followed where it defines the task:

- each doctor reply is one turn; ``REQUEST TEST: <test>`` goes to the measurement agent,
  ``DIAGNOSIS READY: <diagnosis>`` ends the episode, anything else is dialogue for the patient
  (checked in that order: a reply naming the diagnosis wins, as upstream);
- the turn budget counts every doctor reply (questions, test requests, the diagnosis); upstream's
  default is 20 (``--total_inferences``). The last turn says it is the last; a doctor that still
  does not diagnose ends with no diagnosis, scored wrong (upstream: the case counts as incorrect);
- the doctor sees ``Objective_for_Doctor`` only; the patient agent the patient script; the
  measurement agent the physical examination and test results, answering ``RESULTS: ...`` or
  ``RESULTS: NORMAL READINGS``;
- the diagnosis is judged against ``Correct_Diagnosis`` by the judges (upstream: a moderator LLM
  answering Yes/No to "are these the same disease?"). The judging is the ``freetext`` protocol's
  (``protocols/graded_text.py``): its ``differential`` check with ``k=1`` judges the diagnosis
  for equivalence with the reference (``diagnosis_equivalence@v1``) and scores the string
  baseline (``scoring/diagnosis_match.py``) beside it. A verdict that cannot be read leaves the
  episode unscored (counted), never wrong.

Variants: one ``turnsN`` per turn budget (``max_turns`` first, it headlines; then ``turn_budgets``),
and the interactive protocol's bounds: ``full`` (the whole case in one prompt) and ``initial``
(the objective only). Each agent sees only its own exchanges with the doctor (upstream also
appends the patient's words to the measurement agent's history and the results to the
patient's: dropped so that neither agent can repeat what the other was shown).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from medevals.judging import templates
from medevals.judging.judge import ask_jury, judge_roles
from medevals.judging.jury import JuryMethod
from medevals.judging.tables import agreement_tables, collect
from medevals.protocols import patient_sim
from medevals.protocols.base import SolveContext, comma_list
from medevals.protocols.interactive import (
    Action,
    InteractiveOptions,
    InteractiveProtocol,
    _paired_differences_between,
)
from medevals.schema import CallRecord, Item, Message, Sample, Score
from medevals.scoring import consultation
from medevals.scoring.stats import PROPORTION, MetricSpec, mean_ci

DOCTOR_PROMPT_VERSION = "agentclinic-doctor-v1"
DOCTOR_SYSTEM = (
    "You are a doctor who only responds in the form of dialogue. You are examining a patient: ask them "
    "questions, one at a time, to understand their disease. Each of your replies is one turn, and your "
    "turns are limited (you are told how many are left). You can request examination findings and test "
    'results with the format "REQUEST TEST: [test]", for example "REQUEST TEST: Chest_X-Ray". Keep each '
    'turn to 1-3 sentences. Once you have decided on a diagnosis, reply "DIAGNOSIS READY: [diagnosis]".'
)
CASE = (
    "Here is all the information you have: {objective}\n"
    "Remember, you must discover the disease by asking the patient questions; you may also request "
    "examinations and tests.\n\n{budget}"
)
TURNS_LEFT = "You have {n} turns left."
LAST_TURN = "This is your final turn: give your diagnosis as DIAGNOSIS READY: [diagnosis]."
REPLY = "{speaker}: {reply}\n\n{budget}"
BASE_SYSTEM = (
    "A doctor examines a patient to find the diagnosis. Each doctor line is a question for the patient, "
    "REQUEST TEST: followed by an examination or test to be read by the measurement reader, or DIAGNOSIS "
    "READY: followed by the diagnosis."
)
BASE_EXAMPLE = (
    "Example consultation:\n"
    "Here is all the information you have: Assess and diagnose the patient presenting with a sore throat.\n\n"
    "You have 3 turns left.\n"
    "Doctor: Have you had a fever?\n"
    "Patient: Yes, a high fever for two days.\n\nYou have 2 turns left.\n"
    "Doctor: REQUEST TEST: Rapid strep test\n"
    "Measurement: RESULTS: Rapid strep test: positive\n\n" + LAST_TURN + "\n"
    "Doctor: DIAGNOSIS READY: Streptococcal pharyngitis\n\n"
    "Now the real consultation:\n"
)
BOUND_SYSTEM = (
    "You are a doctor. Read the patient's case and give the most likely diagnosis. Reply with exactly one "
    "line: DIAGNOSIS READY: [diagnosis]."
)
BASE_BOUND_SYSTEM = "A doctor reads a patient's case and names the most likely diagnosis on one line."
BOUND_CASE = "{info}"

_DIAGNOSIS = re.compile(r"DIAGNOSIS\s+READY\s*[:\-]?\s*(.*)", re.I | re.S)
_TEST = re.compile(r"REQUEST\s+TEST\s*[:\-]?\s*(.*)", re.I | re.S)
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)


def _first_line(text: str) -> str:
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    return line.strip().strip("[]*`\"' ").rstrip(".").strip("[]*`\"' ")


def parse_doctor(text: str, *, allow_ask: bool) -> Action:
    """Read one doctor reply: a diagnosis, a test request, or dialogue for the patient.

    ``DIAGNOSIS READY`` anywhere in the reply ends the episode with the rest of that line as the
    diagnosis (upstream checks it first too); ``REQUEST TEST`` sends the rest of its line to the
    measurement agent; any other non-empty reply is said to the patient. On the last turn
    (``allow_ask=False``) only a diagnosis is accepted.
    """
    text = _THINK.sub(" ", (text or "").replace("<|im_end|>", " ").replace("<end_of_turn>", " ")).strip()
    if not text:
        return Action("invalid", method="empty reply")
    m = _DIAGNOSIS.search(text)
    if m:
        diagnosis = _first_line(m.group(1))
        if not diagnosis:
            return Action("invalid", method="DIAGNOSIS READY without a diagnosis")
        return Action("answer", answer=diagnosis, method="diagnosis")
    if not allow_ask:
        return Action("invalid", method="no diagnosis on the last turn")
    m = _TEST.search(text)
    if m:
        test = _first_line(m.group(1))
        if not test:
            return Action("invalid", method="REQUEST TEST without a test")
        return Action("test", question=test, method="test")
    return Action("ask", question=text, method="dialogue")


def budget_of(variant: str) -> int | None:
    m = re.fullmatch(r"turns(\d+)", variant)
    return int(m.group(1)) if m else None


class AgentClinicOptions(InteractiveOptions):
    max_turns: int = Field(20, ge=1, le=100, description="doctor turns of the headline budget (upstream 20)")
    turn_budgets: list[int] = Field(
        default_factory=lambda: [10], description="further turn budgets, each its own variant (turnsN)"
    )
    measurement: Literal["auto", "model", "keyword"] = "auto"
    abstain: bool = False
    max_tokens: int = Field(200, ge=1)
    patient_max_tokens: int = Field(128, ge=1)
    measurement_max_tokens: int = Field(256, ge=1)
    jury: JuryMethod = "majority"
    judge_max_tokens: int = Field(256, ge=16)
    judge_attempts: int = Field(3, ge=1, le=10)
    judge_retry_temperature: float = Field(0.5, ge=0.0, le=2.0)
    #: With --set requires_judge=false and no --judge, the string baseline headlines.
    requires_judge: bool = True

    _split_budgets = field_validator("turn_budgets", mode="before")(comma_list)

    @field_validator("turn_budgets")
    @classmethod
    def _budgets(cls, v: list[int]) -> list[int]:
        for b in v:
            if not 1 <= b <= 100:
                raise ValueError(f"turn budget {b} is outside 1..100")
        return v

    @model_validator(mode="after")
    def _unsupported(self) -> AgentClinicOptions:
        if self.abstain:
            raise ValueError("abstain: AgentClinic's doctor cannot abstain")
        if self.probe:
            raise ValueError("probe: not available for AgentClinic (budgets are variants: turn_budgets)")
        return self

    @property
    def budgets(self) -> list[int]:
        return list(dict.fromkeys([self.max_turns, *self.turn_budgets]))

    @property
    def requires_measurement(self) -> bool:
        return self.measurement == "model"


class AgentClinicProtocol(InteractiveProtocol):
    name = "agentclinic"
    primary_metric = "accuracy"
    Options = AgentClinicOptions  # type: ignore[assignment]
    options: AgentClinicOptions
    roles = ("patient", "measurement", "embedder", "judge")
    #: Without ``--measurement-model`` the measurement agent is the patient model (when one is given).
    role_fallbacks: ClassVar[dict[str, str]] = {"measurement": "patient"}

    def __init__(self, options: AgentClinicOptions, benchmark: Any = None):  # type: ignore[override]
        super().__init__(options, benchmark)
        from medevals.protocols.graded_text import FreeTextOptions, FreeTextProtocol

        # The freetext protocol's judged diagnosis match + string baseline, reused as is.
        self.freetext = FreeTextProtocol(
            FreeTextOptions(
                checks=["differential"],
                k=1,
                primary="top1",
                match_template=templates.DIAGNOSIS_EQUIVALENCE,
                jury=options.jury,
                judge_max_tokens=options.judge_max_tokens,
                judge_attempts=options.judge_attempts,
                judge_retry_temperature=options.judge_retry_temperature,
                bertscore=False,
                lexical=False,
            )
        )

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        if name.startswith(("accuracy", "judge:", "diagnosed")):
            return PROPORTION
        return None

    def variants(self) -> list[str]:
        out: list[str] = []
        for s in self.options.strategy:
            out += [f"turns{b}" for b in self.options.budgets] if s == "interactive" else [s]
        return out

    def variant_label(self, variant: str) -> str:
        b = budget_of(variant)
        if b is not None:
            return f"interactive, {b} turns"
        return {"full": "whole case at once (upper bound)", "initial": "objective only (lower bound)"}[
            variant
        ]

    def templates(self) -> dict[str, str]:
        return {
            "doctor_version": DOCTOR_PROMPT_VERSION,
            "doctor_system": DOCTOR_SYSTEM,
            "case": CASE,
            "turns_left": TURNS_LEFT,
            "last_turn": LAST_TURN,
            "reply": REPLY,
            "base_model_system": BASE_SYSTEM,
            "base_model_example": BASE_EXAMPLE,
            "bound_system": BOUND_SYSTEM,
            "base_model_bound_system": BASE_BOUND_SYSTEM,
            "patient_version": patient_sim.PATIENT_PROMPT_VERSION,
            "patient_system": patient_sim.PATIENT_SYSTEM,
            "patient_repair": patient_sim.PATIENT_REPAIR,
            "measurement_version": patient_sim.MEASUREMENT_PROMPT_VERSION,
            "measurement_system": patient_sim.MEASUREMENT_SYSTEM,
            "measurement_repair": patient_sim.MEASUREMENT_REPAIR,
            **self.freetext.templates(),
        }

    # ----------------------------------------------------------------- the interactive protocol's hooks

    def parse_reply(self, text: str, item: Item, *, allow_ask: bool, allow_abstain: bool) -> Action:
        return parse_doctor(text, allow_ask=allow_ask)

    def _system(self) -> str:
        return DOCTOR_SYSTEM

    def _base_system(self) -> str:
        return BASE_SYSTEM + "\n"

    def _base_example(self) -> str:
        return BASE_EXAMPLE

    def _answer_form(self) -> str:
        return "DIAGNOSIS READY: [diagnosis]"

    def _answer_prefill(self) -> str:
        return "DIAGNOSIS READY:"

    def _forms(self, allow_ask: bool) -> str:
        if not allow_ask:
            return self._answer_form()
        return "a question for the patient, REQUEST TEST: [test] or DIAGNOSIS READY: [diagnosis]"

    def _bound_system(self) -> str:
        return BOUND_SYSTEM

    def _base_bound_system(self) -> str:
        return BASE_BOUND_SYSTEM

    def _bound_messages(self, item: Item, variant: str) -> list[Message]:
        info = item.context if variant == "full" else f"Objective: {item.metadata.get('initial_info') or ''}"
        return [
            {"role": "system", "content": BOUND_SYSTEM},
            {"role": "user", "content": BOUND_CASE.format(info=info)},
        ]

    def _turn_note(self, left: int) -> str:
        return LAST_TURN if left <= 1 else TURNS_LEFT.format(n=left)

    def _measurement_mode(self, ctx: SolveContext) -> str:
        mode = self.options.measurement
        if mode == "auto":
            return "model" if ctx.has_role("measurement") else "keyword"
        return mode

    # ----------------------------------------------------------------- solving

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        budget = budget_of(ctx.variant)
        if budget is None:
            out = await self._bound(item, ctx, ctx.variant)
            out["turns"] = 1
        else:
            out = await self._clinic(item, ctx, budget)
        final = self.parse_reply(out.get("final_reply") or "", item, allow_ask=False, allow_abstain=False)
        out["diagnosis"] = final.answer if out["stop"] == "answer" else None
        await self._judge(item, ctx, out)
        return out

    async def _clinic(self, item: Item, ctx: SolveContext, budget: int) -> dict[str, Any]:
        o = self.options
        facts: list[str] = list(item.metadata.get("facts", []))
        results: list[str] = list(item.metadata.get("results", []))
        mode = self._patient_mode(ctx)
        measure = self._measurement_mode(ctx)
        case = CASE.format(objective=item.metadata.get("initial_info") or "", budget=self._turn_note(budget))
        messages: list[Message] = [
            {"role": "system", "content": DOCTOR_SYSTEM},
            {"role": "user", "content": case},
        ]
        transcript: list[dict[str, Any]] = [{"role": "case", "text": case}]
        turns = questions = 0
        tests: list[str] = []
        out: dict[str, Any] = {
            "variant": f"turns{budget}",
            "patient": mode,
            "measurement": measure,
            "max_turns": budget,
        }
        final: str | None = None
        while True:
            last = turns >= budget - 1
            # The last turn gets no repair: upstream counts a doctor that does not diagnose then as wrong.
            action, text = await self._ask_expert(
                ctx, messages, item, transcript, allow_ask=not last, repair=not last
            )
            turns += 1
            if action.kind == "answer":
                stop, final = "answer", text
                break
            if action.kind == "invalid":
                stop = "no_diagnosis" if last else "format_failure"
                final = text
                break
            assert action.question is not None
            if action.kind == "test":
                tests.append(action.question)
                speaker, role = "Measurement", "measurement"
                if measure == "model":
                    reply = await patient_sim.model_results(
                        ctx, item, action.question, o.measurement_max_tokens
                    )
                else:
                    reply = patient_sim.keyword_results(action.question, results)
            else:
                questions += 1
                speaker, role = "Patient", "patient"
                reply = await self._patient(ctx, item, action.question, facts, mode)
            transcript.append(
                {
                    "role": role,
                    "text": reply.text,
                    "facts": reply.facts,
                    "repaired": reply.repaired,
                    **({"attempts": reply.attempts} if reply.repaired else {}),
                    **({"problem": reply.problem} if reply.problem else {}),
                }
            )
            if not reply.ok:
                stop = f"{role}_failure"
                out["problem"] = reply.problem
                break
            messages.append(
                {
                    "role": "user",
                    "content": REPLY.format(
                        speaker=speaker, reply=reply.text, budget=self._turn_note(budget - turns)
                    ),
                }
            )
        out.update(
            stop=stop,
            turns=turns,
            questions=questions,
            tests=tests,
            final_reply=final,
            transcript=transcript,
        )
        return out

    async def _judge(self, item: Item, ctx: SolveContext, out: dict[str, Any]) -> None:
        """The freetext protocol's judgement of the diagnosis (jury of ``--judge`` roles)."""
        roles = judge_roles(ctx)
        out["judged"] = bool(roles)
        out["judgements"] = []
        diagnosis = out.get("diagnosis")
        if not roles or not diagnosis:
            return
        tasks = self.freetext.judge_tasks(item, self.freetext.read_reply(diagnosis), diagnosis)
        juries = await asyncio.gather(*(ask_jury(ctx, t, roles) for _, t in tasks))
        out["judgements"] = [{"key": key, "judges": j} for (key, _), j in zip(tasks, juries, strict=True)]

    # ----------------------------------------------------------------- scoring

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        variant = output.get("variant", variant)
        stop = output.get("stop")
        flagged = bool(item.metadata.get("results_spell_diagnosis"))
        counts: dict[str, float | None] = {
            "turns": float(output.get("turns", 0)),
            "tests_ordered": float(len(output.get("tests") or [])),
            "patient_questions": float(output.get("questions", 0)),
        }
        if stop in ("patient_failure", "measurement_failure"):
            return Score(
                value=None,
                target=item.target,
                values={**counts, stop: 1.0},
                explanation=f"{stop.replace('_', ' ')}: {output.get('problem')}",
            )
        diagnosis = output.get("diagnosis") or ""
        values: dict[str, float | None] = dict(counts)
        values["diagnosed"] = float(bool(diagnosis))
        if not diagnosis:
            reason = {
                "no_diagnosis": f"no diagnosis within {output.get('max_turns')} turns",
                "format_failure": "format failure: " + _last_parse(output),
            }.get(str(stop), f"no diagnosis ({stop})")
            values.update(accuracy=0.0, accuracy_string=0.0)
            values["accuracy_without_flagged"] = None if flagged else 0.0
            return Score(
                value=0.0,
                answer=None,
                target=item.target,
                parsed=stop != "format_failure",
                values=values,
                explanation=reason,
            )
        judged = bool(output.get("judged"))
        ft = self.freetext.score(
            item,
            {"response": diagnosis, "judged": judged, "judgements": output.get("judgements") or []},
            calls,
        )
        baseline = ft.values.get("baseline_top1")
        value = ft.values.get("top1") if judged else baseline
        values.update(accuracy=value, accuracy_string=baseline)
        values["accuracy_without_flagged"] = None if flagged else value
        for k, v in ft.values.items():
            if k.startswith("judge:"):
                values[k] = v
        explanation = ft.explanation if judged else "no judge: the string baseline headlines"
        return Score(
            value=value,
            answer=diagnosis,
            target=item.target,
            values=values,
            explanation=explanation or ("judged" if value is not None else "not judged"),
        )

    # ----------------------------------------------------------------- aggregates

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        samples = list(samples)
        by_variant: dict[str, list[Sample]] = defaultdict(list)
        for s in samples:
            by_variant[s.variant].append(s)
        order = [v for v in self.variants() if v in by_variant]
        rows = []
        budget_rows = []
        for v in order:
            ss = by_variant[v]
            scored = [s for s in ss if s.score is not None and s.score.value is not None]
            unflagged = [s for s in scored if not s.item.metadata.get("results_spell_diagnosis")]
            acc = _ci(scored, "accuracy")
            row = [
                self.variant_label(v),
                len(scored),
                acc,
                _ci(scored, "accuracy_string"),
                _ci(unflagged, "accuracy"),
                _ci(scored, "diagnosed"),
                _mean(scored, "turns"),
                _mean(scored, "tests_ordered"),
                _mean(scored, "patient_questions"),
                sum(1 for s in ss if s.output.get("stop") == "format_failure"),
                sum(
                    1
                    for s in ss
                    if str(s.output.get("stop", "")).endswith("_failure")
                    and s.score
                    and s.score.value is None
                ),
                sum(
                    1
                    for s in ss
                    if s.score is not None
                    and s.score.value is None
                    and not str(s.output.get("stop", "")).endswith("_failure")
                ),
                sum(1 for s in ss if s.error),
            ]
            rows.append(row)
            b = budget_of(v)
            if b is not None:
                budget_rows.append(
                    (
                        b,
                        acc,
                        _ci(unflagged, "accuracy"),
                        _mean(scored, "turns"),
                        _mean(scored, "tests_ordered"),
                        _ci(scored, "diagnosed"),
                    )
                )
        tables: list[dict[str, Any]] = [
            {
                "title": "AgentClinic: diagnosis accuracy by setting (same cases)",
                "columns": [
                    "setting",
                    "n scored",
                    "accuracy (judged)",
                    "accuracy (string baseline)",
                    "accuracy without the cases whose results spell the diagnosis",
                    "diagnosed within the budget",
                    "mean doctor turns",
                    "mean tests ordered",
                    "mean patient questions",
                    "format failures",
                    "patient/measurement failures (unscored)",
                    "judge failures (unscored)",
                    "errors",
                ],
                "rows": rows,
                "caption": "Without --judge the judged column repeats the string baseline "
                "(--set requires_judge=false). Cases whose test results state the diagnosis verbatim "
                "are flagged in each item's metadata (results_spell_diagnosis).",
            }
        ]
        extra: dict[str, Any] = {"tables": tables}
        if budget_rows:
            budget_rows.sort(key=lambda r: r[0])
            tables.append(
                {
                    "title": "Accuracy by turn budget",
                    "columns": [
                        "turn budget",
                        "accuracy",
                        "accuracy without flagged cases",
                        "mean turns used",
                        "mean tests ordered",
                        "diagnosed within the budget",
                    ],
                    "rows": [list(r) for r in budget_rows],
                }
            )
            extra["accuracy_by_budget"] = {str(r[0]): r[1]["value"] for r in budget_rows}
            series = [{"name": "interactive", "points": [[r[0], r[1]["value"]] for r in budget_rows]}]
            lo, hi = budget_rows[0][0], budget_rows[-1][0]
            for v in ("full", "initial"):
                if v in by_variant:
                    val = _ci([s for s in by_variant[v] if s.score and s.score.value is not None], "accuracy")
                    if val["value"] is not None:
                        series.append(
                            {
                                "name": self.variant_label(v),
                                "points": [[lo, val["value"]], [hi, val["value"]]],
                            }
                        )
            extra["plots"] = [
                {
                    "title": "Accuracy by turn budget",
                    "kind": "line",
                    "x_label": "doctor turns allowed",
                    "y_label": "accuracy",
                    "series": series,
                }
            ]
        head = next((v for v in order if budget_of(v) is not None), None)
        if head is not None:
            scored = [s for s in by_variant[head] if s.score is not None and s.score.value is not None]
            by_k = consultation.accuracy_by_questions(
                (int(s.output.get("turns", 0)), float(s.score.value)) for s in scored if s.score
            )
            tables.append(
                {
                    "title": f"{self.variant_label(head)}: accuracy by turns used before stopping",
                    "columns": ["turns used", "episodes", "accuracy"],
                    "rows": [[k, len(v), mean_ci(v)] for k, v in by_k.items()],
                }
            )
            stops: Counter[str] = Counter()
            tests: Counter[str] = Counter()
            for s in by_variant[head]:
                stops[s.output.get("stop") or ("error" if s.error else "unknown")] += 1
                tests.update(t.lower() for t in s.output.get("tests") or [])
            tables.append(
                {
                    "title": f"{self.variant_label(head)}: how episodes ended",
                    "columns": ["end", "episodes"],
                    "rows": [[k, n] for k, n in sorted(stops.items())],
                }
            )
            if tests:
                tables.append(
                    {
                        "title": f"{self.variant_label(head)}: tests ordered most often",
                        "columns": ["test requested", "times"],
                        "rows": [[t, n] for t, n in tests.most_common(15)],
                    }
                )
            paired = _paired_differences_between(
                by_variant,
                [
                    (f"{head} - initial (gain from the consultation)", head, "initial"),
                    (f"full - {head} (left to gain)", "full", head),
                ],
            )
            if paired:
                tables.append(
                    {
                        "title": "Same cases, paired: accuracy difference between settings",
                        "columns": ["difference", "case pairs", "mean difference (95% bootstrap CI)"],
                        "rows": [[name, d["n"], d] for name, d in paired.items()],
                    }
                )
                extra["paired_differences"] = paired
        labels, failures, scores = collect(samples)
        for s in samples:
            key = (s.unit_id, "rank:1")
            if key in labels and s.score is not None and s.score.values.get("accuracy_string") is not None:
                labels[key]["string baseline"] = int(s.score.values["accuracy_string"] or 0)
        tables += agreement_tables(labels, failures, scores, label_name="diagnosis")
        return extra


def _ci(samples: list[Sample], key: str) -> dict[str, Any]:
    vals = [float(v) for s in samples if s.score is not None and (v := s.score.values.get(key)) is not None]
    return mean_ci(vals)


def _mean(samples: list[Sample], key: str) -> float | str:
    vals = [float(v) for s in samples if s.score is not None and (v := s.score.values.get(key)) is not None]
    return round(sum(vals) / len(vals), 3) if vals else ""


def _last_parse(output: dict[str, Any]) -> str:
    for turn in reversed(output.get("transcript", [])):
        if turn.get("role") == "expert":
            return str(turn.get("parse", ""))
    return "no doctor reply"
