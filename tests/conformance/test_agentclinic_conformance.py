"""AgentClinic's scoring rule, row by row, against upstream's moderator.

Upstream (``SamuelSchmidgall/AgentClinic@b6570ed:agentclinic.py``, ``compare_results`` and the
loop in ``main``): when a doctor reply contains ``DIAGNOSIS READY``, a moderator LLM is asked
whether the correct diagnosis and "the doctor dialogue" (that reply) are the same disease, "Yes
or No"; the case is correct when the lower-cased answer equals ``"yes"``. A doctor that does not
reach ``DIAGNOSIS READY`` within ``total_inferences`` turns is counted, not correct.

medevals: the judges see the diagnosis text after ``DIAGNOSIS READY:`` (its line) and the
reference under ``diagnosis_equivalence@v1`` and answer a JSON boolean (the freetext protocol's
judging); an unreadable verdict leaves the case unscored. The string baseline
(``scoring/diagnosis_match.py``) is scored on every diagnosis. Each row: the doctor's last
reply (or how the episode ended), the reference, the judge's reply, then medevals' value, the
baseline, and what upstream's rule gives where it differs.
"""

from __future__ import annotations

from typing import Any

import pytest

from medevals.judging import templates
from medevals.protocols.agentclinic import AgentClinicOptions, AgentClinicProtocol, parse_doctor
from medevals.schema import Item

REF = "Myasthenia gravis"

# (doctor's final reply, stop, judge reply or None (no judge), value, baseline, upstream, why)
ROWS: list[tuple[str, str, str | None, float | None, float, float | None, str]] = [
    ("DIAGNOSIS READY: Myasthenia gravis", "answer", '{"equivalent": true}', 1.0, 1.0, 1.0, "same name"),
    (
        "DIAGNOSIS READY: [Myasthenia Gravis].",
        "answer",
        '{"equivalent": true}',
        1.0,
        1.0,
        1.0,
        "brackets, case, stop",
    ),
    (
        "DIAGNOSIS READY: MG",
        "answer",
        '{"equivalent": true}',
        1.0,
        1.0,
        1.0,
        "initials: the baseline's acronym rule",
    ),
    (
        "DIAGNOSIS READY: Autoimmune neuromuscular junction disorder",
        "answer",
        '{"equivalent": true}',
        1.0,
        0.0,
        1.0,
        "a paraphrase only the judge credits",
    ),
    (
        "DIAGNOSIS READY: Lambert-Eaton syndrome",
        "answer",
        '{"equivalent": false}',
        0.0,
        0.0,
        0.0,
        "other disease",
    ),
    (
        "DIAGNOSIS READY: Generalized myasthenia gravis with thymoma",
        "answer",
        '{"equivalent": true}',
        1.0,
        1.0,
        1.0,
        "a more specific form: the baseline's contains rule",
    ),
    # upstream reads the moderator's free text: "Yes" is correct, "Yes." is not (answer.lower() == "yes")
    ("DIAGNOSIS READY: Myasthenia gravis", "answer", "Yes", None, 1.0, 1.0, "no JSON verdict: unscored"),
    (
        "DIAGNOSIS READY: Myasthenia gravis",
        "answer",
        '{"equivalent": "yes"}',
        None,
        1.0,
        None,
        "not a boolean",
    ),
    (
        "DIAGNOSIS READY: Myasthenia gravis",
        "answer",
        None,
        1.0,
        1.0,
        None,
        "no judge: the baseline headlines",
    ),
    ("DIAGNOSIS READY: Ocular myopathy", "answer", None, 0.0, 0.0, None, "no judge, no string match"),
    ("Any double vision?", "no_diagnosis", None, 0.0, 0.0, 0.0, "no diagnosis within the budget: wrong"),
    ("", "format_failure", None, 0.0, 0.0, 0.0, "empty replies after a repair turn: wrong, unparsed"),
    ("", "patient_failure", None, None, 0.0, None, "the simulator failed: unscored"),
]


def _record(reply: str) -> dict[str, Any]:
    return {
        "role": "judge:0",
        "template": templates.DIAGNOSIS_EQUIVALENCE,
        "attempts": [reply],
        "call_error": None,
        "call_errors": [],
        "fresh_calls": 1,
    }


@pytest.mark.parametrize(("reply", "stop", "judge", "value", "baseline", "upstream", "why"), ROWS)
def test_agentclinic_rule(reply, stop, judge, value, baseline, upstream, why):
    proto = AgentClinicProtocol(AgentClinicOptions(requires_judge=judge is not None))
    item = Item(id="c", input="objective", target=REF, metadata={"results_spell_diagnosis": False})
    action = parse_doctor(reply, allow_ask=False)
    diagnosis = action.answer if stop == "answer" else None
    output: dict[str, Any] = {
        "variant": "turns20",
        "stop": stop,
        "turns": 3,
        "max_turns": 20,
        "tests": [],
        "questions": 2,
        "final_reply": reply,
        "diagnosis": diagnosis,
        "judged": judge is not None,
        "judgements": [{"key": "rank:1", "judges": {"judge:0": _record(judge)}}]
        if judge and diagnosis
        else [],
        "transcript": [{"role": "expert", "text": reply, "parse": action.method}],
    }
    s = proto.score(item, output, [], "turns20")
    assert s.value == value, why
    if stop != "patient_failure":
        assert s.values["accuracy_string"] == baseline, why
        assert s.parsed == (stop != "format_failure")
    if upstream is not None and value is not None:
        assert value == upstream, why  # where medevals scores, it agrees with upstream's verdict
