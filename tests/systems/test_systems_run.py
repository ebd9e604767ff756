"""Agent systems run through the engine against a scripted fake model: every bundled system makes
exactly the calls its declaration implies on each scripted path, every call costs the declared
prices x its tokens, and the final answer is read and scored by the MCQ protocol's own rules."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli, run_fake, run_ok
from fake_openai import _last_user_text, make_response

from medevals.runs.folder import RunFolder

PRICE_IN, PRICE_OUT = 2.0, 8.0  # USD per 1M tokens
PROMPT_TOKENS, COMPLETION_TOKENS = 100, 7  # every scripted reply says so in its usage
CALL_COST = (PROMPT_TOKENS * PRICE_IN + COMPLETION_TOKENS * PRICE_OUT) / 1e6


def _system_prompt(body: dict[str, Any]) -> str:
    for m in body.get("messages") or []:
        if m.get("role") == "system":
            return str(m.get("content"))
    return ""


def scripted(script: dict[str, Any]) -> Any:
    """A responder that answers each kind of system prompt as ``script`` says (text or a callable
    of the request body), with fixed token usage so costs are exact."""

    def respond(path: str, body: dict[str, Any]) -> dict[str, Any]:
        text = _last_user_text(body)
        for marker, reply in script.items():
            if marker in text:
                out = reply(body) if callable(reply) else reply
                break
        else:
            out = "The answer is (C)."
        kind = "chat" if path.endswith("/chat/completions") else "completion"
        resp = make_response(kind, out, body)
        resp["usage"] = {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        }
        return resp

    return respond


def _run(server, tmp_path: Path, capsys, system: str, *extra: str, limit: int = 1, **kw: Any) -> RunFolder:
    return run_ok(
        server,
        tmp_path,
        capsys,
        "--system",
        system,
        "--limit",
        str(limit),
        "--price-in",
        str(PRICE_IN),
        "--price-out",
        str(PRICE_OUT),
        *extra,
        **kw,
    )


def _samples(folder: RunFolder, variant: str) -> list[Any]:
    return [s for s in folder.iter_samples() if s.variant == variant]


def _check_costs(sample: Any) -> None:
    """Every call costs price x tokens; the sample's values and per-role usage add up to that."""
    n = len(sample.calls)
    for c in sample.calls:
        assert (c.usage.prompt_tokens, c.usage.completion_tokens) == (PROMPT_TOKENS, COMPLETION_TOKENS)
        assert c.cost_usd == pytest.approx(CALL_COST)
    v = sample.score.values
    assert v["calls"] == n and v["tokens"] == n * (PROMPT_TOKENS + COMPLETION_TOKENS)
    assert v["cost_usd"] == pytest.approx(n * CALL_COST)
    roles = sample.output["system"]["roles"]
    assert sum(r["calls"] for r in roles.values()) == n
    for name, r in roles.items():
        assert r["calls"] == sum(1 for c in sample.calls if c.role.startswith(f"system:{name}:"))
        assert r["cost_usd"] == pytest.approx(r["calls"] * CALL_COST)
        assert r["prompt_tokens"] == r["calls"] * PROMPT_TOKENS


# --------------------------------------------------------------------------- vote and debate


def test_vote_n_samples_with_distinct_seeds_and_majority(fake_server, tmp_path, capsys):
    letters = {1: "B", 2: "C", 3: "B", 4: "D", 5: "C"}  # by call number: B 2, C 2, D 1 -> B (first)
    server = fake_server(
        responder=scripted({"step by step": lambda b: f"The answer is ({letters[b['seed'] % 100_000]})."})
    )
    folder = _run(server, tmp_path, capsys, "vote5")
    (s,) = _samples(folder, "system:vote5")
    assert len(server.requests) == 5 and len(s.calls) == 5
    bodies = [r["body"] for r in server.requests]
    assert sorted(b["seed"] for b in bodies) == [1, 2, 3, 4, 5] and {b["temperature"] for b in bodies} == {
        0.7
    }
    assert len({c.key for c in s.calls}) == 5
    assert [c.role for c in s.calls] == [f"system:voter:{i}" for i in range(1, 6)]
    assert s.score.answer == "B" and s.score.confidence == pytest.approx(2 / 5)
    assert s.score.value == float(s.item.target == "B")
    _check_costs(s)


def test_debate_agents_read_each_other_and_keep_their_conversation(fake_server, tmp_path, capsys):
    def by_agent(body: dict[str, Any]) -> str:
        # the seed says which call this is: 1-3 round one, 4-6 round two
        n = body["seed"] % 100_000
        return f"Agent call {n}. The answer is ({'ABA'[(n - 1) % 3] if n <= 3 else 'D'})."

    server = fake_server(responder=scripted({"Answer the following": by_agent, "other agents": by_agent}))
    folder = _run(server, tmp_path, capsys, "debate:3x2")
    (s,) = _samples(folder, "system:debate:3x2")
    assert len(s.calls) == 6 == len(server.requests)
    assert [c.role for c in s.calls] == [f"system:debater:{i}" for i in (1, 2, 3, 1, 2, 3)]
    for i, c in enumerate(s.calls[3:], start=1):
        msgs = c.request["messages"]
        # own round-one question and answer kept, then the other two agents' round-one answers
        assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
        assert msgs[1]["content"].startswith(f"Agent call {i}.")
        others = re.findall(r"Agent call (\d+)\.", msgs[2]["content"])
        assert sorted(int(x) for x in others) == sorted({1, 2, 3} - {i})
    # final answer: the majority of the last round (all D)
    assert s.output["system"]["final"] == [3, 4, 5] and s.score.answer == "D"
    _check_costs(s)


@pytest.mark.parametrize(("ref", "calls"), [("debate:2x3", 6), ("debate:4x1", 4), ("debate", 6)])
def test_debate_makes_agents_x_rounds_calls(fake_server, tmp_path, capsys, ref, calls):
    server = fake_server(responder=scripted({}))
    folder = _run(server, tmp_path, capsys, ref, limit=2)
    for s in _samples(folder, f"system:{ref}"):
        assert len(s.calls) == calls
    assert len(server.requests) == 2 * calls


# --------------------------------------------------------------------------- MedAgents


def _medagents_script(no_voters: set[str], revised_ends_it: bool) -> dict[str, Any]:
    def vote(body: dict[str, Any]) -> str:
        domain = re.search(r"specialized in the (.+?) domain", _system_prompt(body)).group(1)
        revised = "REVISED" in _last_user_text(body)
        return "NO, I disagree." if domain in no_voters and not (revised and revised_ends_it) else "Yes."

    return {
        "classify the question into": "Medical Field: Cardiology | Neurology | Ethics | Surgery | Pharmacology",
        "categorize the options into": "Medical Field: Law | Surgery",
        "YES or NO": vote,
        "propose revisions": "Revisions: stress disclosure.",
        "output the revised analysis": "Total Analysis: REVISED analysis.",
        "Here are some reports": "Key Knowledge: k\nTotal Analysis: first analysis.",
        "select the optimal choice": "B",
        "meticulously examine": "An analysis.",
        "Regarding the question": "Options analysed.",
    }


@pytest.mark.parametrize(
    ("no_voters", "revised_ends_it", "calls", "voting_rounds", "voter_calls", "revisions"),
    [
        # 2 field classifiers + 5 + 2 experts + report + 7 votes + decision
        (set(), False, 18, 1, 7, 0),
        # one "no": its advice and a revision, then 7 votes that all agree
        ({"Neurology"}, True, 18 + 1 + 1 + 7, 2, 7 + 1 + 7, 1),
        # two experts never agree: 3 full rounds of 7 votes + 2 advice + 1 revision
        ({"Neurology", "Law"}, False, 10 + 3 * (7 + 2 + 1) + 1, 3, 3 * (7 + 2), 3),
    ],
    ids=["agree", "one-revision", "never-agree"],
)
def test_medagents_calls_per_voting_path(
    fake_server, tmp_path, capsys, no_voters, revised_ends_it, calls, voting_rounds, voter_calls, revisions
):
    server = fake_server(responder=scripted(_medagents_script(no_voters, revised_ends_it)))
    folder = _run(server, tmp_path, capsys, "medagents")
    (s,) = _samples(folder, "system:medagents")
    assert len(s.calls) == calls == len(server.requests)
    roles = s.output["system"]["roles"]
    assert roles["question_classifier"]["calls"] == roles["option_classifier"]["calls"] == 1
    assert roles["question_expert"]["calls"] == 5 and roles["option_expert"]["calls"] == 2
    assert roles["voter"]["calls"] == voter_calls
    assert roles.get("reviser", {}).get("calls", 0) == revisions
    (loop,) = [t for t in s.output["system"]["trace"] if "loop" in t]
    assert loop["iterations"] == voting_rounds
    # the option experts read the question experts' analyses; the decider reads the final report
    option_prompt = next(c for c in s.calls if c.role.startswith("system:option_expert:")).request[
        "messages"
    ][-1]
    assert option_prompt["content"].count("An analysis.") == 5
    decision = s.calls[-1]
    assert decision.role == "system:decider:1"
    final_report = "REVISED analysis." if (no_voters and revised_ends_it) or no_voters else "first analysis."
    assert final_report in decision.request["messages"][-1]["content"]
    assert s.score.answer == "B" and s.score.explanation == "medagents: letter"
    _check_costs(s)


# --------------------------------------------------------------------------- MDAgents


def _mdagents_script(level: str, talker: str | None = None) -> dict[str, Any]:
    def participate(body: dict[str, Any]) -> str:
        # the talker wants to talk only while reading the first round's report (turn 1)
        wants = (
            talker
            and f"You are a {talker} " in _system_prompt(body)
            and "Key Knowledge" in _last_user_text(body)
        )
        return "yes" if wants else "no"

    return {
        "decide the difficulty/complexity": f"The difficulty is {level}.",
        "You can recruit": "\n".join(
            f"{i}. {name} - Specializes in {name.lower()} things. - Hierarchy: Independent"
            for i, name in enumerate(
                ["Cardiologist", "Neurologist", "Nephrologist", "Ethicist", "Surgeon"], 1
            )
        ),
        "Please return your answer to the medical query": "The answer is (A).",
        "Here are some reports": "Key Knowledge: k; Total Analysis: t",
        "want to talk to any expert": participate,
        "Enter the number of the expert": "2, 4",
        "leave your opinion to an expert": "Please reconsider.",
        "Now that you've interacted": "The answer is (B).",
        "taking majority vote": "The answer is (B).",
        "organize 3 MDTs": "\n\n".join(
            f"Group {g} - {goal}\n"
            + "\n".join(
                f"Member {m}: {role}{' (Lead)' if m == 2 else ''} - Does {role.lower()} work."
                for m, role in enumerate([f"{goal} A", f"{goal} B", f"{goal} C"], 1)
            )
            for g, goal in enumerate(
                ["Initial Assessment Team (IAT)", "Evidence Team", "Final Review Team (FRDT)"], 1
            )
        ),
        "You are the lead of the medical group": "Investigate these points.",
        "Your group lead is asking": "Findings.",
        "The gathered investigation": "The answer is (C).",
        "Investigation:": "The answer is (B).",
        "**Question:**": "The answer is (D).",
    }


def test_mdagents_basic_is_one_agent(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(_mdagents_script("basic")))
    folder = _run(server, tmp_path, capsys, "mdagents")
    (s,) = _samples(folder, "system:mdagents")
    assert [c.role for c in s.calls] == ["system:moderator:1", "system:solo:1"]
    assert {"branch": "triage.parsed", "value": "basic", "case": "basic"} in s.output["system"]["trace"]
    assert s.score.answer == "D"
    _check_costs(s)


def test_mdagents_intermediate_when_nobody_talks(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(_mdagents_script("intermediate")))
    folder = _run(server, tmp_path, capsys, "mdagents")
    (s,) = _samples(folder, "system:mdagents")
    # triage, recruiter, 5 opinions, report, 5 "no": discussion over; moderator decides
    assert len(s.calls) == 1 + 1 + 5 + 1 + 5 + 1 == len(server.requests)
    roles = s.output["system"]["roles"]
    assert roles["expert"]["calls"] == 10 and roles["decider"]["calls"] == 1
    experts = [c.role for c in s.calls if c.role.startswith("system:expert:")][:5]
    assert experts == [
        f"system:expert:{n}" for n in ("cardiologist", "neurologist", "nephrologist", "ethicist", "surgeon")
    ]
    cardio = next(c for c in s.calls if c.role == "system:expert:cardiologist")
    assert cardio.request["messages"][0]["content"].startswith(
        "You are a cardiologist who specializes in cardiologist"
    )
    decision = s.calls[-1].request["messages"][-1]["content"]
    assert decision.count("The answer is (A).") == 5  # the initial opinions
    assert s.score.answer == "B"
    _check_costs(s)


def test_mdagents_intermediate_discussion_routes_messages(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(_mdagents_script("intermediate", talker="neurologist")))
    folder = _run(server, tmp_path, capsys, "mdagents")
    (s,) = _samples(folder, "system:mdagents")
    # round 1: report, turn 1 (5 asked, 1 yes -> 1 choice -> 2 messages), turn 2 (5 asked, none) ends the
    # discussion before the round's final answers
    assert len(s.calls) == 1 + 1 + 5 + 1 + (5 + 1 + 2) + 5 + 1
    msgs = [c for c in s.calls if c.role == "system:expert:neurologist"]
    # the neurologist's own conversation: opinion, participate, choice, two messages, participate
    assert [m["role"] for m in msgs[-1].request["messages"]][:1] == ["system"]
    assert len(msgs[-1].request["messages"]) == 1 + 2 * 5 + 1
    sent = [t for t in s.output["system"]["trace"] if t.get("to")]
    assert [(t["agent"], t["to"]) for t in sent] == [("neurologist", "2"), ("neurologist", "4")]
    # turn 2: the ethicist (agent 4) reads the message addressed to it; the surgeon reads none
    turn2 = {
        c.role: c.request["messages"][-1]["content"] for c in s.calls if "want to talk" in str(c.request)
    }
    assert "Agent 2 -> Agent 4: Please reconsider." in turn2["system:expert:ethicist"]
    assert "Please reconsider" not in turn2["system:expert:surgeon"]
    _check_costs(s)


def test_mdagents_advanced_runs_each_team(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(_mdagents_script("advanced")))
    folder = _run(server, tmp_path, capsys, "mdagents")
    (s,) = _samples(folder, "system:mdagents")
    # triage, team recruiter, per team: lead asks, 2 members report, lead answers; decision maker
    assert len(s.calls) == 1 + 1 + 3 * (1 + 2 + 1) + 1 == len(server.requests)
    trace = s.output["system"]["trace"]
    leads = [t["agent"] for t in trace if t.get("stage", "").endswith("/delegation")]
    goals = ["Initial Assessment Team (IAT)", "Evidence Team", "Final Review Team (FRDT)"]
    assert leads == [f"{g}: {g} B (Lead)" for g in goals]  # the member marked (Lead), not the first
    members = [t["agent"] for t in trace if t.get("stage", "").endswith("/investigations")]
    assert members == [f"{g}: {g} {m}" for g in goals for m in "AC"]
    reports = [t for t in trace if t.get("stage", "").endswith("/team_reports")]
    assert [t["stage"] for t in reports] == [
        "advanced/team[1]/team_reports",
        "advanced/team[2]/team_reports",
        "advanced/team[3]/team_reports",
    ]
    # the lead keeps its conversation: its answer follows its own delegation
    lead_answer = next(c for c in s.calls if "The gathered investigation" in str(c.request["messages"][-1]))
    assert [m["role"] for m in lead_answer.request["messages"]] == ["system", "user", "assistant", "user"]
    assert lead_answer.request["messages"][-1]["content"].count("Findings.") == 2
    decision = s.calls[-1].request["messages"][-1]["content"]
    assert decision.count("The answer is (C).") == 3 and s.score.answer == "B"
    _check_costs(s)


# --------------------------------------------------------------------------- user systems, resume, report

USER_SYSTEM = """\
name: second-opinion
title: Two drafts and a reviewer
roles:
  drafter: {temperature: 0.5}
  reviewer: {model: candidate}
stages:
  - ask: drafts
    role: drafter
    agents: 2
    prompt: "{{ question }}\\n{{ reasoning_instruction }}"
  - ask: verdict
    role: reviewer
    agents: 1
    prompt: |-
      {{ question }}
      {% for d in drafts %}Draft {{ d.label }}: {{ d.text }}
      {% endfor %}{{ answer_instruction }}
answer:
  from: verdict
"""


def test_a_users_yaml_system_runs_beside_a_strategy(fake_server, tmp_path, capsys):
    path = tmp_path / "second.yaml"
    path.write_text(USER_SYSTEM, encoding="utf-8")
    server = fake_server(responder=scripted({"Draft 2": "C", "step by step": "The answer is (A)."}))
    folder = _run(server, tmp_path, capsys, str(path), "--strategy", "zero-shot", limit=2)
    assert folder.read_manifest().benchmarks[0].variants == ["zero-shot", "system:second-opinion"]
    for s in _samples(folder, "system:second-opinion"):
        assert [c.role for c in s.calls] == ["system:drafter:1", "system:drafter:2", "system:reviewer:1"]
        assert s.score.answer == "C"
        _check_costs(s)
    # the declaration is in the manifest: the report and rescore need no file
    path.unlink()
    code, out, err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0, err
    assert "0 sample score(s) changed" in out


def test_resume_after_an_interrupt_repeats_no_inner_call(fake_server, tmp_path, capsys):
    seen = {"n": 0}
    script = scripted(_medagents_script({"Neurology"}, True))

    def respond_then_ctrl_c(path: str, body: dict[str, Any]) -> Any:
        seen["n"] += 1
        if seen["n"] == 31:  # inside the second item's system, mid-way
            os.kill(os.getpid(), signal.SIGINT)
        return script(path, body)

    server = fake_server(responder=respond_then_ctrl_c)
    args = ("--system", "medagents", "--limit", "3", "-c", "1")
    code, _out, err, folder = run_fake(server, tmp_path, capsys, *args)
    assert code == 130, err
    first = [json.dumps(r["body"], sort_keys=True) for r in server.requests]
    journaled = {
        json.dumps(c["request"], sort_keys=True) for c in map(json.loads, folder.journal_path.open())
    }
    done = {json.dumps(c.request, sort_keys=True) for s in folder.iter_samples() for c in s.calls}
    assert journaled and len(first) >= 31
    server.requests.clear()
    code, _out, err, folder2 = run_fake(server, tmp_path, capsys, *args)
    assert code == 0 and folder2.path == folder.path, err
    again = [json.dumps(r["body"], sort_keys=True) for r in server.requests]
    assert not set(again) & (journaled | done), "a finished inner call was sent again"
    samples = list(folder.iter_samples())
    assert len(samples) == 3 and all(len(s.calls) == 27 for s in samples)
    assert len(first) + len(again) <= 3 * 27 + 5  # at most the calls in flight at the interrupt are redone
    # the interrupted unit's finished inner calls came back from the journal, none from the server
    replayed = [c for s in samples for c in s.calls if c.replayed]
    assert replayed and len(replayed) == len(journaled - done)


def test_one_table_and_one_pareto_plot_compare_systems_and_strategies(
    fake_server, tmp_path, capsys, shared_data
):
    """The issue's command: medevals run -b medagentsbench --system medagents,debate,vote5 --strategy zero-shot."""
    server = fake_server(
        responder=scripted({**_medagents_script(set(), False), "step by step": "The answer is (B)."})
    )
    folder = _run(
        server,
        tmp_path,
        capsys,
        "medagents,debate,vote5",
        "--strategy",
        "zero-shot",
        limit=2,
        benchmark="medagentsbench",
        report=True,
    )
    bench = folder.read_metrics()["benchmarks"]["medagentsbench"]
    assert len(server.requests) == 2 * (1 + 18 + 6 + 5)
    points = {p["label"]: p for p in bench["extra"]["pareto"]}
    assert list(points) == ["zero-shot", "system:medagents", "system:debate", "system:vote5"]
    for label, calls in (
        ("zero-shot", 1),
        ("system:medagents", 18),
        ("system:debate", 6),
        ("system:vote5", 5),
    ):
        assert points[label]["calls"] == calls
        assert points[label]["tokens"] == calls * (PROMPT_TOKENS + COMPLETION_TOKENS)
        assert points[label]["cost_usd"] == pytest.approx(calls * CALL_COST)
    grid = next(t for t in bench["extra"]["tables"] if t["title"].startswith("Strategies"))
    assert [r[0] for r in grid["rows"]] == list(points)
    html = folder.report_path.read_text(encoding="utf-8")
    pareto = html[html.index('<section id="pareto">') :]
    pareto = pareto[: pareto.index("</section>")]
    assert pareto.count("<h3>") == 1 and "Accuracy vs cost per item" in pareto
    for label in points:
        assert label in pareto
    assert "Agent systems: calls, tokens, cost and latency per role" in html


# --------------------------------------------------------------------------- free text (protocol-neutral)


def test_a_free_text_task_gets_the_majority_answer_text(fake_server):
    """A free-text protocol hands ``text_task`` to ``run_system`` and scores ``final_text``: votes
    count answers equal up to case, punctuation and spacing."""
    import asyncio

    from medevals.engine.client import ModelClient
    from medevals.models.openai_compat import OpenAICompatBackend
    from medevals.protocols.base import SolveContext
    from medevals.schema import Item, ModelRecord
    from medevals.systems.runner import run_system, text_task
    from medevals.systems.spec import resolve

    replies = {1: "Pulmonary embolism.", 2: "Aortic dissection", 3: "pulmonary  EMBOLISM"}
    server = fake_server(responder=lambda path, body: replies[body["seed"] % 100_000])
    rec = ModelRecord(spec="openai:fake", backend="openai", name="fake", base_url=server.base_url)

    async def go():
        client = ModelClient(OpenAICompatBackend(rec, concurrency=4))
        ctx = SolveContext(
            unit_id="u",
            item=Item(id="x", input="q"),
            repeat=0,
            variant="system:vote3",
            seed=0,
            clients={"candidate": client},
        )
        try:
            return await run_system(resolve("vote3"), text_task("Which diagnosis?"), ctx), ctx
        finally:
            await client.close()

    result, ctx = asyncio.run(go())
    assert result.final_text == "Pulmonary embolism." and result.agreement == pytest.approx(2 / 3)
    assert result.final == [0, 1, 2] and len(ctx.calls) == 3
    assert all("Which diagnosis?" in r["body"]["messages"][-1]["content"] for r in server.requests)


def test_system_metrics_are_byte_identical_whatever_order_the_inner_calls_finish(
    fake_server, tmp_path, capsys
):
    """The calls of a stage run in parallel: a slow reply changes the order they finish in, never the
    sample (calls stored in call-number order) nor metrics.json."""
    from fake_openai import Faults

    script = scripted({**_medagents_script({"Neurology"}, True), "step by step": "The answer is (B)."})
    steady = fake_server(responder=script)
    jumpy = fake_server(responder=script, faults=Faults(rate_slow=0.4, slow_s=0.05), seed=5)
    folders = [
        _run(server, tmp_path, capsys, "medagents,vote3", "-c", c, limit=3, runs=tmp_path / name)
        for server, c, name in ((steady, "1", "a"), (jumpy, "8", "b"))
    ]
    a, b = folders
    assert a.metrics_path.read_bytes() == b.metrics_path.read_bytes()
    by_unit = [{s.unit_id: [c.request for c in s.calls] for s in f.iter_samples()} for f in folders]
    assert by_unit[0] == by_unit[1]


def test_systems_on_a_free_text_benchmark_are_judged_like_the_models_own_answer(
    fake_server, tmp_path, capsys, shared_data
):
    """medicationqa (freetext protocol): the judges read each system's final answer text; the system's
    calls (not the judges') are its cost; the single model's answer runs beside it as ``default``."""
    verdict = json.dumps(
        {a: {"score": 4, "explanation": "ok"} for a in ("accuracy", "completeness", "clarity")}
    )
    drafts = {1: "Take it with food.", 2: "take it  with FOOD", 3: "Avoid alcohol."}

    def respond(path: str, body: dict[str, Any]) -> Any:
        text = _last_user_text(body)
        if '"score"' in text:  # the judge's axes template
            return verdict
        if "seed" in body:  # the vote's sampled answers
            return drafts[body["seed"] % 100_000]
        return "Single answer."

    server = fake_server(responder=respond)
    folder = run_ok(
        server,
        tmp_path,
        capsys,
        "--system",
        "vote3",
        "--limit",
        "2",
        "--judge",
        "openai:fake",
        benchmark="medicationqa",
    )
    assert folder.read_manifest().benchmarks[0].variants == ["default", "system:vote3"]
    for s in _samples(folder, "system:vote3"):
        assert s.output["response"] == "Take it with food."  # the majority, as first written
        roles = [c.role for c in s.calls]
        assert roles.count("judge:0") == 1 and sum(r.startswith("system:voter:") for r in roles) == 3
        judged = next(c for c in s.calls if c.role == "judge:0")
        assert "Take it with food." in json.dumps(judged.request)
        assert s.score.values["calls"] == 3 and s.score.values["jury_score"] == pytest.approx(0.75)
    for s in _samples(folder, "default"):
        assert s.output["response"] == "Single answer." and "calls" not in s.score.values
    bench = folder.read_metrics()["benchmarks"]["medicationqa"]
    assert set(bench["variants"]) == {"default", "system:vote3"}
    titles = [t["title"] for t in bench["extra"]["tables"]]
    assert "Agent systems: calls, tokens, cost and latency per role (means per item)" in titles


@pytest.mark.slow
def test_systems_on_ray_workers_write_what_a_local_run_writes(ray_cluster, fake_server, tmp_path, capsys):
    """``--executor ray``: a system's inner calls run on the workers through the same engine path;
    samples (calls in call order, per-role records, traces) and metrics equal a local run's."""
    script = scripted({**_medagents_script({"Neurology"}, True), "step by step": "The answer is (B)."})
    servers = [fake_server(responder=script), fake_server(responder=script)]
    ray = ("--executor", "ray", "--ray-workers", "2", "--ray-num-cpus", "0.5")
    local, remote = (
        _run(server, tmp_path, capsys, "medagents,debate", *extra, limit=2, runs=tmp_path / name)
        for server, extra, name in ((servers[0], (), "local"), (servers[1], ray, "ray"))
    )
    assert local.metrics_path.read_bytes() == remote.metrics_path.read_bytes()

    def calls(folder: RunFolder) -> dict[str, list[tuple[str, str]]]:
        return {s.unit_id: [(c.role, c.key) for c in s.calls] for s in folder.iter_samples()}

    assert calls(local) == calls(remote)
    assert len(servers[0].requests) == len(servers[1].requests) == 2 * (27 + 6)


@pytest.mark.slow
def test_kill_9_inside_a_system_then_rerun_repeats_no_recorded_call(fake_server, tmp_path):
    """``kill -9`` of a real ``medevals run`` while items are inside MedAgents, then the same command:
    no inner call whose response was recorded (journal or samples) is sent again, at most the calls
    in flight at the kill are, and the samples equal an uninterrupted run's."""
    import random
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("OPENAI_API_KEY", None)
    server = fake_server(responder=scripted(_medagents_script({"Neurology"}, True)), latency_s=0.01)

    def cmd(runs: Path) -> list[str]:
        return [
            sys.executable, "-m", "medevals", "run", "-m", "openai:fake", "--base-url", server.base_url,
            "-b", "demo", "--system", "medagents", "--limit", "4", "-c", "2", "--no-cache", "--no-report",
            "--quiet", "--runs-dir", str(runs),
        ]  # fmt: skip

    def body(b: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in b.items() if k != "model"}, sort_keys=True)

    def comparable(folder: RunFolder) -> dict[str, Any]:
        return {s.unit_id: [(c.role, c.key, c.raw) for c in s.calls] for s in folder.iter_samples()}

    subprocess.run(cmd(tmp_path / "ref"), env=env, check=True, timeout=300)
    reference = comparable(RunFolder(next((tmp_path / "ref").iterdir())))
    assert len(reference) == 4 and all(len(v) == 27 for v in reference.values())
    server.requests.clear()

    kill_at = random.randint(10, 4 * 27 - 20)
    runs = tmp_path / "runs"
    proc = subprocess.Popen(cmd(runs), env=env)
    deadline = time.time() + 120
    while len(server.requests) < kill_at and proc.poll() is None and time.time() < deadline:
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL, f"run ended before the kill (kill_at={kill_at})"
    first = [body(r["body"]) for r in server.requests]
    (folder,) = [RunFolder(p) for p in runs.iterdir() if p.is_dir()]
    recorded = {
        body(json.loads(x)["request"])
        for x in folder.journal_path.read_text().splitlines(keepends=True)
        if x.endswith("\n")
    }
    recorded |= {body(c.request) for s in folder.iter_samples() for c in s.calls}
    subprocess.run(cmd(runs), env=env, check=True, timeout=300)
    second = [body(r["body"]) for r in server.requests[len(first) :]]
    assert not set(second) & recorded, f"kill_at={kill_at}: a recorded inner call was sent again"
    assert len(second) == len(set(second))  # nothing sent twice by the rerun either
    assert len((set(second) & set(first)) - recorded) <= 2 * 7  # in flight: 2 units x a stage of 7
    assert comparable(folder) == reference, f"kill_at={kill_at}"
