"""``medevals calculators list`` names each calculator as `compute` takes it and as a model calls it."""

from __future__ import annotations

from clihelp import run_cli

from medevals.calculators.tools import openai_tools


def test_list_has_a_tool_name_column_matching_the_offered_tools(capsys):
    code, out, err = run_cli(["calculators", "list"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["id", "name", "tool", "name", "title", "[unit]"]
    rows = [line.split() for line in lines[1:]]
    offered = {t["function"]["name"] for t in openai_tools()}
    assert len(rows) == len(offered) == 55
    assert {r[2] for r in rows} == offered
    assert rows[1][:3] == ["3", "ckd-epi-2021", "ckd_epi_2021"]
