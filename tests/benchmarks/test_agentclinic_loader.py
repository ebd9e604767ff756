"""AgentClinic loader: exact counts per split, NEJM cases skipped and counted, leak flags, who sees what."""

from __future__ import annotations

import json

import pytest

from medevals.benchmarks import base, registry
from medevals.benchmarks.agentclinic import NEJM_SKIP, fact_lines, spells_diagnosis


@pytest.mark.parametrize(
    ("split", "n_items", "n_nejm", "n_flagged"),
    [("test", 107, 15, 15), ("extended", 214, 120, 28)],
)
def test_counts_skips_and_flags(shared_data, split, n_items, n_nejm, n_flagged):
    bench = registry.get("agentclinic")
    data = base.load(bench, split, shared_data)
    items = list(data.items)
    assert len(items) == n_items
    assert data.skipped == {NEJM_SKIP: n_nejm}
    assert bench.splits[split] == n_items + n_nejm
    assert sum(i.metadata["results_spell_diagnosis"] for i in items) == n_flagged
    assert len({i.id for i in items}) == n_items


def test_fields_each_agent_sees(shared_data):
    items = list(base.load(registry.get("agentclinic"), "extended", shared_data).items)
    for it in items:
        diagnosis = it.target.lower()
        # the doctor's objective and the patient script never state the diagnosis
        assert diagnosis not in it.input.lower()
        assert not any(diagnosis in f.lower() for f in it.metadata["facts"])
        assert it.metadata["initial_info"] == it.input
        # the whole-case bound shows no diagnosis that the results do not already state
        if not it.metadata["results_spell_diagnosis"]:
            assert diagnosis not in (it.context or "").lower()
        assert "Management" not in json.dumps(it.metadata)
    first = items[0]
    assert first.target == "Myasthenia gravis"
    assert first.metadata["facts"][0] == "Demographics: 35-year-old female"
    assert (
        "Test results > Blood Tests > Acetylcholine Receptor Antibodies: Present (elevated)"
        in first.metadata["results"]
    )


def test_flag_rule_is_case_and_space_insensitive():
    lines = fact_lines(
        {"Biopsy": {"Findings": "consistent with Hirschsprung’s   Disease."}}, ("Test results",)
    )
    assert lines == ["Test results > Biopsy > Findings: consistent with Hirschsprung’s   Disease."]
    assert spells_diagnosis("Hirschsprung’s disease", lines)
    assert not spells_diagnosis("Hirschsprung disease", lines)
    assert not spells_diagnosis("", lines)
