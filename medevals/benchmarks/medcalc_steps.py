"""``medcalc-steps``: step verification on MedCalc-Bench's ground-truth explanations (MedPRMBench style).

Construction (seeded by ``--seed``; the same seed gives the same benchmark):

1. Source: ``original_test_labels.csv`` (MedCalc-Bench v1.0 test). Each row's ``Ground Truth
   Explanation`` is split into steps (a line, or a sentence ending in ``. `` before a capital).
2. A chain is kept only when it is *verified clean*: every ``expression = number`` in it
   recomputes (``scoring/step_arith.py``, within the chain's own rounding) and medevals' own
   calculator, run on the row's ``Relevant Entities``, lands inside the row's [Lower, Upper]
   limits. Chains with a formula medevals cannot recompute (square roots, logarithms), a
   calculator medevals lacks, or an arithmetic slip in the source explanation are skipped and
   counted by reason (the upstream explanations hold such slips: they are not clean controls).
3. Every kept chain gives two items: the clean chain (label: no wrong step) and one corrupted
   copy with exactly one step changed (label: that step and the error type). The type is the
   least used so far among those the chain allows (ties broken by the seed), so types stay
   balanced; the step is drawn by the seed among that type's candidate steps:

   - ``value``: a step stating a patient value with no computation, whose number is written in
     the patient note: the number is moved by 25-50% (same decimals) to one the note does not hold;
   - ``coefficient``: a step stating the formula: one of its constants that a later computation
     step uses is moved by 20-50%; recomputing that later step with the moved constant gives a
     result off by more than the chain's rounding (the stated formula is wrong);
   - ``unit``: a unit-conversion step (``which is``, ``convert``): its result is off by a factor of
     10, 100 or 1000 (a decimal-place slip);
   - ``arithmetic``: any other computation step: its result is moved by 15-40% (same decimals).

   Each corrupted step is re-checked by recomputation before the item is kept (the tests do it
   again): the changed result no longer equals its expression, the changed value is not in the
   note, the changed constant changes the later result.

Only the corrupted step changes; later steps keep the source's numbers, so the label is the
*first* wrong step (as ProcessBench and MedPRMBench label), and a verifier that re-derives later
steps from the note finds them right.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, Skipped
from medevals.benchmarks.readers import read_csv, require
from medevals.schema import Item, Taxonomy
from medevals.scoring.step_arith import NUMBER, decimals, equations, evaluate, holds, tolerance

TYPES = ("value", "coefficient", "unit", "arithmetic")
_SPLIT = re.compile(r"\n+|(?<=[.!?])\s+(?=[A-Z])")
_CONVERSION = re.compile(r"\bconver|, which is\b", re.I)
#: A step that states one patient value read from the note ("The patient is 87 years old.",
#: "The concentration of creatinine is 1.4 mg/dL."), never a score, total or conclusion.
_VALUE_STEP = re.compile(
    r"^(The patient is|The patient's|The patient has|The concentration of|The patient weighs)"
)
_NOT_VALUE = re.compile(r"score|total|points?\b|criteria|therefore|hence|which is", re.I)
_FORMULA = re.compile(r"\bformula\b|\bis given by\b|\bis calculated as\b|\bcalculated as follows\b", re.I)


def split_steps(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text) if s.strip()]


def _fmt(value: float, like: str) -> str:
    d = decimals(like)
    return f"{value:.{d}f}" if d else str(round(value))


def _numbers_in(text: str) -> set[float]:
    return {float(m) for m in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]\d)", text)}


def _moved(rng: random.Random, value: float, like: str, lo: float, hi: float) -> str | None:
    for _ in range(8):
        sign = rng.choice((-1, 1))
        new = value * (1 + sign * rng.uniform(lo, hi))
        text = _fmt(new, like)
        if float(text) != value and float(text) > 0:
            return text
    return None


def _replace_at(step: str, start: int, old: str, new: str) -> str:
    assert step[start : start + len(old)] == old
    return step[:start] + new + step[start + len(old) :]


# -------------------------------------------------------------------------------- corruptions
def _candidates(steps: list[str], note: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {t: [] for t in TYPES}
    later_exprs = [(i, eq) for i, s in enumerate(steps) for eq in equations(s)]
    note_numbers = _numbers_in(note)
    for i, s in enumerate(steps):
        eqs = equations(s)
        if eqs:
            (out["unit"] if _CONVERSION.search(s) else out["arithmetic"]).append(i)
        elif "=" not in s and _FORMULA.search(s):
            consts = [m for m in re.finditer(r"(?<![\w.])" + NUMBER + r"(?![\w])", s)]
            if any(_coefficient_target(m.group(0), i, later_exprs) for m in consts):
                out["coefficient"].append(i)
        elif "=" not in s and _VALUE_STEP.match(s) and not _NOT_VALUE.search(s):
            nums = list(re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?=[A-Za-zµ°%])", s))
            allnums = re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]\d)", s)
            if len(nums) == len(allnums) == 1 and 0 < float(nums[0].group(1)) in note_numbers:
                out["value"].append(i)
    return out


def _coefficient_target(const: str, at: int, later: list[tuple[int, Any]]) -> Any:
    """The first later computation whose expression uses ``const`` as one of its numbers."""
    if float(const) in (0.0, 1.0):
        return None
    for j, eq in later:
        if j > at and const in eq.expression.split() and holds(eq):
            return eq
    return None


def corrupt(steps: list[str], note: str, kind: str, at: int, rng: random.Random) -> dict[str, Any] | None:
    """The chain with step ``at`` corrupted as ``kind``, and the recomputation that proves it wrong."""
    s = steps[at]
    new_step: str | None = None
    proof: dict[str, Any] = {}
    if kind in ("arithmetic", "unit"):
        eq = next((e for e in equations(s) if holds(e)), None)
        if eq is None or eq.result == 0:
            return None
        if kind == "unit":
            factor = rng.choice((10, 100, 1000)) ** rng.choice((-1, 1))
            text = f"{eq.result * factor:.6g}"
        else:
            text = _moved(rng, eq.result, eq.result_text, 0.15, 0.4)
        if text is None or float(text) == eq.result:
            return None
        new_step = _replace_at(s, eq.start, eq.result_text, text)
        proof = {"expression": eq.expression, "recomputed": evaluate(eq.expression), "stated": float(text)}
        if abs(proof["recomputed"] - proof["stated"]) <= tolerance(text, proof["stated"]) * 5:
            return None
    elif kind == "value":
        m = next(re.finditer(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]\d)", s), None)
        if m is None:
            return None
        old = m.group(0)
        text = _moved(rng, float(old), old, 0.25, 0.5)
        if text is None or float(text) in _numbers_in(note):
            return None
        new_step = _replace_at(s, m.start(), old, text)
        proof = {"note_value": float(old), "stated": float(text)}
    elif kind == "coefficient":
        later = [(i, eq) for i, st in enumerate(steps) for eq in equations(st)]
        for m in re.finditer(r"(?<![\w.])" + NUMBER + r"(?![\w])", s):
            target = _coefficient_target(m.group(0), at, later)
            if target is None:
                continue
            text = _moved(rng, float(m.group(0)), m.group(0), 0.2, 0.5)
            if text is None:
                continue
            tokens = target.expression.split()
            tokens[tokens.index(m.group(0))] = text
            again = evaluate(" ".join(tokens))
            if (
                again is None
                or abs(again - target.result) <= tolerance(target.result_text, target.result) * 5
            ):
                continue
            new_step = _replace_at(s, m.start(), m.group(0), text)
            proof = {
                "constant": m.group(0),
                "stated": text,
                "applied_in": target.expression,
                "result": target.result,
                "result_with_stated": again,
            }
            break
    if new_step is None or new_step == s:
        return None
    return {"steps": [*steps[:at], new_step, *steps[at + 1 :]], "proof": proof, "original": s}


def verify_clean(steps: list[str]) -> bool:
    """Every computation in the chain recomputes, and at least one computation is there to check."""
    found = [holds(e) for st in steps for e in equations(st)]
    return bool(found) and all(h is True for h in found)


def calculator_agrees(row: dict[str, Any]) -> bool | None:
    """medevals' calculator on the row's entities lands in [Lower Limit, Upper Limit] (None: cannot run)."""
    from medevals.calculators.base import get
    from medevals.calculators.medcalc_entities import parse_entities, to_inputs

    try:
        cid = int(row["Calculator ID"])
        calc = get(cid)
        value = calc.compute(to_inputs(cid, parse_entities(row["Relevant Entities"])))
        value = getattr(value, "value", value)
        lo, hi = float(row["Lower Limit"]), float(row["Upper Limit"])
        return lo - 1e-9 <= float(value) <= hi + 1e-9
    except Exception:  # an unknown calculator, an entity it cannot read, a non-numeric output
        return None


# -------------------------------------------------------------------------------- items
def _item(uid: str, row: dict[str, Any], steps: list[str], label: int, meta: dict[str, Any]) -> Item:
    return Item(
        id=uid,
        input=str(row["Question"]),
        context=str(row["Patient Note"]),
        target=label,
        subset=meta.get("error_type", "clean"),
        metadata={"steps": steps, "calculator": row["Calculator Name"], **meta},
    )


def _load(folder: Path, split: str, seed: int = 0) -> Any:
    path = folder / "original_test_labels.csv"
    rng = random.Random(f"medcalc-steps:{seed}")
    used = dict.fromkeys(TYPES, 0)
    for line, row in read_csv(path):
        for f in ("Unique ID", "Patient Note", "Question", "Ground Truth Explanation", "Output Type"):
            require(row, f, path, line)
        uid = f"{row['Calculator ID']}-{row['Unique ID']}"
        if row["Output Type"] == "date":
            yield Skipped(uid, "date answer: no arithmetic to recompute")
            continue
        steps = split_steps(row["Ground Truth Explanation"])
        if not verify_clean(steps):
            yield Skipped(
                uid, "source chain does not recompute (a formula medevals cannot evaluate, or a slip)"
            )
            continue
        agrees = calculator_agrees(row)
        if agrees is not True:
            yield Skipped(
                uid,
                "medevals' calculator cannot run on the row's entities"
                if agrees is None
                else "medevals' calculator disagrees with the row's label",
            )
            continue
        cands = _candidates(steps, row["Patient Note"])
        options = [t for t in TYPES if cands[t]]
        corrupted = None
        rng_row = random.Random(f"medcalc-steps:{seed}:{uid}")
        for kind in sorted(options, key=lambda t: (used[t], rng_row.random())):
            for at in rng_row.sample(cands[kind], len(cands[kind])):
                corrupted = corrupt(steps, row["Patient Note"], kind, at, rng_row)
                if corrupted is not None:
                    break
            if corrupted is not None:
                used[kind] += 1
                break
        if corrupted is None:
            yield Skipped(uid, "no step could be corrupted verifiably")
            continue
        yield _item(f"{uid}-clean", row, steps, 0, {"source": uid})
        yield _item(
            f"{uid}-{kind}",
            row,
            corrupted["steps"],
            at + 1,
            {
                "source": uid,
                "error_type": kind,
                "proof": corrupted["proof"],
                "original_step": corrupted["original"],
            },
        )
    del rng


MEDCALC_STEPS = Benchmark(
    name="medcalc-steps",
    title="MedCalc-Bench step verification (seeded corruptions of ground-truth explanations)",
    protocol="step-verify",
    task_type="step verification",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Reasoning verification"),
    license="CC-BY-SA-4.0",
    source="Khandekar et al. 2024, MedCalc-Bench (ncbi-nlp/MedCalc-Bench); corruptions by medevals "
    "(MedPRMBench / ProcessBench-style first-error labels)",
    description="Clean ground-truth calculation chains and copies with one verified wrong step (value, "
    "formula coefficient, unit slip, arithmetic): name the first wrong step or none.",
    splits={"test": 1140},  # at --seed 0 (570 clean + 570 corrupted chains)
    default_split="test",
    local_dir="medcalc_bench",
    load_local=_load,
    local_files=lambda folder, split: [folder / "original_test_labels.csv"],
    seeded=True,
)
