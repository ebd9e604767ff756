"""A flag the run does not use is one warning line, kept in the manifest, never silently dropped."""

from __future__ import annotations

import pytest
from clihelp import run_ok

from medevals.evaluate import RunConfig, _tool_warnings, prepare


def _warned(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_judge_and_patient_on_a_benchmark_without_them_warn_and_are_dropped(fake_server, tmp_path, capsys):
    server = fake_server(responder=lambda path, body: "The answer is (A).")
    code_args = ("--limit", "2", "--judge", "openai:j1,openai:j2", "--patient-model", "openai:p")
    folder = run_ok(server, tmp_path, capsys, *code_args)
    manifest = folder.read_manifest()
    warnings = manifest.stats.get("warnings") or []
    assert warnings == [
        "--judge openai:j1,openai:j2: no benchmark in this run uses a judge model (demo); ignored",
        "--patient-model openai:p: no benchmark in this run uses a patient model (demo); ignored",
    ]
    assert manifest.roles == {}  # not loaded, not recorded as if it had judged


def test_the_warning_is_printed_once_as_one_line(fake_server, tmp_path, capsys):
    from clihelp import run_fake

    server = fake_server(responder=lambda path, body: "The answer is (A).")
    code, _out, err, _folder = run_fake(server, tmp_path, capsys, "--limit", "1", "--judge", "openai:j")
    assert code == 0, err
    assert _warned(err) == [
        "warning: --judge openai:j: no benchmark in this run uses a judge model (demo); ignored"
    ]


def test_shots_without_a_few_shot_strategy_warns(fake_server, tmp_path, capsys):
    from clihelp import run_fake

    server = fake_server(responder=lambda path, body: "The answer is (A).")
    code, _out, err, _folder = run_fake(
        server, tmp_path, capsys, "--limit", "1", "--shots", "3", "--strategy", "zero-shot,cot"
    )
    assert code == 0, err
    assert _warned(err) == [
        "warning: demo: --shots 3: no strategy here takes its number of examples (zero-shot, cot); ignored"
    ]
    # a strategy that takes the count: no warning
    code, _out, err, _ = run_fake(
        server,
        tmp_path,
        capsys,
        "--limit",
        "1",
        "--shots",
        "3",
        "--strategy",
        "few-shot",
        runs=tmp_path / "r2",
    )
    assert code == 0, err
    assert _warned(err) == []


class _NoTools:
    accepts_tools = False


class _Unknown:
    accepts_tools = None


def test_tools_with_a_model_that_cannot_call_tools_warns():
    import os

    if not os.path.isdir(os.path.join(os.environ.get("MEDEVALS_DATA", "/nonexistent"), "medcalc_bench")):
        pytest.skip("medcalc_bench data not present (set MEDEVALS_DATA)")
    p = prepare(
        RunConfig(
            model="builtin:gemma3-270m", benchmarks=["medcalc"], limit=1, options={"tools": "calculators"}
        )
    )
    assert _tool_warnings(p, _NoTools()) == [
        "--tools calculators: builtin:gemma3-270m cannot call tools; medcalc offers them and reads its "
        "plain-text answers"
    ]
    assert _tool_warnings(p, _Unknown()) == []  # a served model may well call tools: no guess
    from medevals.models.builtin import BuiltinBackend

    assert BuiltinBackend.accepts_tools is False


REFEREE_SYSTEM = """\
name: refereed
title: One answer, checked by the run's judge
roles:
  answerer: {}
  referee: {model: "judge:0"}
stages:
  - ask: draft
    role: answerer
    agents: 1
    prompt: "{{ question }}\\n{{ reasoning_instruction }}"
  - ask: verdict
    role: referee
    agents: 1
    prompt: "{{ question }}\\n{% for d in draft %}{{ d.text }}{% endfor %}\\n{{ answer_instruction }}"
answer:
  from: verdict
"""


def test_a_judge_an_agent_system_calls_is_used_not_ignored(fake_server, tmp_path, capsys):
    from clihelp import run_fake

    path = tmp_path / "refereed.yaml"
    path.write_text(REFEREE_SYSTEM, encoding="utf-8")
    server = fake_server(responder=lambda path, body: "The answer is (A).")
    code, _out, err, folder = run_fake(
        server, tmp_path, capsys, "--limit", "1", "--system", str(path), "--judge", "openai:j"
    )
    assert code == 0, err
    assert _warned(err) == []
    assert list(folder.read_manifest().roles) == ["judge:0"]
    [sample] = [s for s in folder.iter_samples() if s.variant == "system:refereed"]
    assert [c.role for c in sample.calls] == ["system:answerer:1", "system:referee:1"]


def test_an_unused_judge_is_a_warning_even_when_its_spec_could_not_be_used(fake_server, tmp_path, capsys):
    """A judge spec that could not be used (unknown prefix) on a benchmark without judging: the judge
    is never made, so its error is not the run's; the flag is reported as ignored."""
    from clihelp import run_fake

    server = fake_server(responder=lambda path, body: "The answer is (A).")
    args = ("--limit", "1", "--judge", "unknown:j")
    code, _out, err, _folder = run_fake(server, tmp_path, capsys, *args)
    assert code == 0, err
    assert _warned(err) == [
        "warning: --judge unknown:j: no benchmark in this run uses a judge model (demo); ignored"
    ]
