"""medcalc-gen: deterministic per seed, fresh per seed/stamp, answers recomputable from what the note says."""

import collections

from medevals.calculators import compute, get
from medevals.calculators.generator import generate
from medevals.scoring.calc_answer import judge


def test_same_seed_same_set_and_new_seed_new_set():
    a, b, c = generate(7), generate(7), generate(8)
    assert [x.note for x in a] == [x.note for x in b]
    assert [x.answer for x in a] == [x.answer for x in b]
    assert sum(x.note == y.note for x, y in zip(a, c, strict=True)) == 0
    d = generate(7, stamp="2027-01-01")
    assert sum(x.note == y.note for x, y in zip(a, d, strict=True)) == 0


def test_every_calculator_with_missing_value_cases():
    cases = generate(3)
    assert len(cases) == 220
    per = collections.Counter(c.calculator_id for c in cases)
    assert len(per) == 55 and set(per.values()) == {4}
    na = [c for c in cases if c.answer == "N/A"]
    assert 40 <= len(na) <= 55
    for c in na:
        assert c.missing and c.missing not in c.inputs


def test_ground_truth_follows_from_the_written_values():
    for c in generate(11):
        if c.answer == "N/A":
            continue
        value = compute(c.calculator_id, c.inputs)
        from medevals.calculators.tools import format_result

        text = str(format_result(get(c.calculator_id), value))
        ok, _ = judge(text, {"answer": c.answer, "lower": c.lower, "upper": c.upper}, c.output_type)
        assert ok, (c.id, text, c.answer)


def test_notes_mix_units_and_carry_distractors():
    notes = " ".join(c.note for c in generate(5))
    for unit in ("lb", "µmol/L", "°F", "mmol/L", "kg", "mg/dL"):
        assert unit in notes
    assert "Magnesium" in notes or "Lactate" in notes


def test_generate_command_writes_a_dated_set(tmp_path, capsys):
    import json

    from clihelp import run_cli

    out = tmp_path / "set.jsonl"
    code, stdout, err = run_cli(
        ["calculators", "generate", "--seed", "3", "--stamp", "2026-11-29", "--out", str(out)], capsys
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 220 and rows[0]["id"].startswith("gen-2026-11-29-s3-")
    assert "220 cases" in stdout
    code, _, err = run_cli(["calculators", "generate", "--stamp", "soon", "--out", str(out)], capsys)
    assert code == 2 and "not a date" in err
