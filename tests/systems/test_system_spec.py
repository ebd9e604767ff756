"""Declaring agent systems: bundled files, shorthands, user files, and one-line errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import fake_run_args, run_cli

from medevals.errors import ConfigError, DataError
from medevals.systems.options import resolve_systems
from medevals.systems.parse import ParseSpec, parse_reply
from medevals.systems.spec import bundled, load_file, resolve

MINIMAL = """\
name: pair
roles:
  solver: {}
stages:
  - ask: answers
    role: solver
    agents: 2
    prompt: "{{ question }} {{ reasoning_instruction }}"
answer:
  from: answers
  aggregate: majority
"""


def test_every_bundled_system_loads_and_names_its_source():
    systems = bundled()
    assert set(systems) == {"medagents", "mdagents", "debate", "vote"}
    for spec in systems.values():
        assert spec.source and spec.description and spec.origin.startswith("bundled:")


@pytest.mark.parametrize(
    ("ref", "variant", "params"),
    [
        ("vote5", "system:vote5", {"n": 5}),
        ("vote3", "system:vote3", {"n": 3}),
        ("vote", "system:vote", {"n": 5}),
        ("debate", "system:debate", {"agents": 3, "rounds": 2}),
        ("debate:4x3", "system:debate:4x3", {"agents": 4, "rounds": 3}),
        ("medagents", "system:medagents", {"question_fields": 5, "option_fields": 2, "voting_rounds": 3}),
    ],
)
def test_names_and_shorthands_resolve_with_their_parameters(ref, variant, params):
    spec = resolve(ref)
    assert spec.variant == variant and spec.parameters == params


def test_unknown_name_lists_the_bundled_systems():
    with pytest.raises(ConfigError, match=r"unknown agent system 'vote-five' \(bundled: debate"):
        resolve("vote-five")


def test_a_resolved_system_round_trips_through_the_manifest(tmp_path):
    """The manifest stores each system's whole declaration; rebuilding from it needs no file."""
    path = tmp_path / "pair.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    specs = resolve_systems(f"medagents,debate:2x3,{path}")
    dumped = [s.model_dump() for s in specs]
    path.unlink()
    again = resolve_systems(dumped)
    assert [s.variant for s in again] == ["system:medagents", "system:debate:2x3", "system:pair"]
    assert [s.model_dump() for s in again] == dumped
    assert '"parse"' in str(dumped[0]).replace("'", '"')  # keys as a user writes them, not parse_


def test_the_same_system_twice_is_refused():
    with pytest.raises(ConfigError, match="given twice"):
        resolve_systems("vote5,vote5")


BAD: list[tuple[str, str, str, str]] = [
    # (case, yaml text, expected line, expected message part)
    ("yaml syntax", "name: x\nroles: {a: [}\n", ":2:", "invalid YAML"),
    (
        "unknown stage key",
        MINIMAL.replace("    agents: 2\n", "    agents: 2\n    agnets: 3\n"),
        ":8:",
        "field 'stages.0.agnets': unknown key",
    ),
    (
        "unknown role",
        MINIMAL.replace("role: solver", "role: solvr"),
        ":6:",
        "field 'stages.0.role': unknown role 'solvr'",
    ),
    (
        "unknown name in a prompt",
        MINIMAL.replace("{{ question }}", "{{ questoin }}"),
        ":8:",
        "field 'stages.0.prompt': unknown name 'questoin'",
    ),
    (
        "template syntax",
        MINIMAL.replace("{{ question }}", "{{ question "),
        ":8:",
        "field 'stages.0.prompt': template error",
    ),
    (
        "break outside its loop",
        MINIMAL.replace("answer:\n", "  - break: rounds\n    if: 'true'\nanswer:\n"),
        ":9:",
        "field 'stages.1.break': 'rounds' is not an enclosing loop",
    ),
    (
        "stage with no kind",
        MINIMAL.replace("  - ask: answers\n", "  - asks: answers\n"),
        ":5:",
        "field 'stages.0': a stage has exactly one of ask, loop, break, branch, each",
    ),
    (
        "bad regex",
        MINIMAL.replace("    prompt:", "    parse: {pattern: '(unclosed'}\n    prompt:"),
        ":8:",
        "field 'stages.0.parse.pattern'",
    ),
    (
        "answer from nothing",
        MINIMAL.replace("from: answers", "from: nothing"),
        ":10:",
        "field 'answer.from': 'nothing' is not bound",
    ),
    (
        "agents and for_each",
        MINIMAL.replace("    agents: 2\n", "    agents: 2\n    for_each: '[1]'\n"),
        ":5:",
        "needs exactly one of 'agents' or 'for_each'",
    ),
    ("missing answer", MINIMAL.split("answer:")[0], "", "field 'answer': Field required"),
    (
        "bad aggregate",
        MINIMAL.replace("aggregate: majority", "aggregate: judge-ish"),
        ":11:",
        "field 'answer.aggregate'",
    ),
]


@pytest.mark.parametrize(("case", "text", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_malformed_system_is_one_error_with_file_line_and_field(case, text, line, message, tmp_path):
    path = tmp_path / "sys.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}{line}"), msg
    assert message in msg and "\n" not in msg, msg


def test_malformed_system_through_the_cli_exits_2_with_one_line_and_no_call(fake_server, tmp_path, capsys):
    server = fake_server()
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL.replace("role: solver", "role: solvr"), encoding="utf-8")
    code, _out, err = run_cli(
        fake_run_args(server, tmp_path / "runs", "--system", str(path), "--limit", "1"), capsys
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{path}:6: field 'stages.0.role': unknown role 'solvr'" in err
    assert server.requests == [] and not (tmp_path / "runs").exists()


def test_systems_on_likelihood_mode_are_refused(fake_server, tmp_path, capsys):
    server = fake_server()
    args = fake_run_args(
        server, tmp_path / "runs", "--system", "vote3", "--mode", "likelihood", "--limit", "1"
    )
    code, _out, err = run_cli(args, capsys)
    assert code == 2 and "agent systems answer in text" in err and server.requests == []


def test_a_system_named_as_a_strategy_points_at_system(fake_server, tmp_path, capsys):
    code, _out, err = run_cli(
        fake_run_args(fake_server(), tmp_path / "r", "--strategy", "system:debate"), capsys
    )
    assert code == 2 and "run it with --system debate" in err


# --------------------------------------------------------------------------- reading replies


@pytest.mark.parametrize(
    ("spec", "text", "value", "defaulted"),
    [
        # MedAgents' vote: the earliest of "yes"/"no" (case-insensitive, substrings as upstream), else yes
        ({"labels": {"yes": ["yes"], "no": ["no"]}, "default": "yes"}, "NO. Yes otherwise.", "no", False),
        ({"labels": {"yes": ["yes"], "no": ["no"]}, "default": "yes"}, "I agree: YES", "yes", False),
        ({"labels": {"yes": ["yes"], "no": ["no"]}, "default": "yes"}, "Agreed.", "yes", True),
        # MDAgents' triage: labels checked in declared order, the first with any phrase wins
        (
            {
                "labels": {"basic": ["basic", "1)"], "advanced": ["advanced", "3)"]},
                "match": "order",
                "default": "basic",
            },
            "This is advanced, not basic.",
            "basic",
            False,
        ),
        (
            {
                "labels": {"basic": ["basic", "1)"], "advanced": ["advanced", "3)"]},
                "match": "order",
                "default": "basic",
            },
            "Advanced.",
            "advanced",
            False,
        ),
        # MedAgents' fields: after the last "Field:", split on "|", at most max
        (
            {"split": "|", "after": "Field:", "max": 2, "default": ["General Medicine"]},
            "Sure. Medical Field: Cardiology | 2. Nephrology | Ethics",
            ["Cardiology", "Nephrology"],
            False,
        ),
        ({"split": "|", "after": "Field:", "default": ["General Medicine"]}, "", ["General Medicine"], True),
        # numbers to talk to
        ({"pattern": r"\d+", "type": "int", "max": 3}, "Agents 2, 4 and then 5 and 1", [2, 4, 5], False),
        ({"pattern": r"\d+", "type": "int"}, "nobody", [], False),
        # teams with their members
        (
            {
                "pattern": r"(?ms)^Group \d+ - (?P<goal>[^\n]+)\n(?P<members>.*?)(?=^Group|\Z)",
                "fields": {"members": {"pattern": r"(?m)^Member \d+: (?P<role>.+?) - (?P<description>.+)$"}},
            },
            "Group 1 - IAT\nMember 1: GP (Lead) - general\nMember 2: Nurse - care\nGroup 2 - FRDT\nMember 1: X - y\n",
            [
                {
                    "goal": "IAT",
                    "members": [
                        {"role": "GP (Lead)", "description": "general"},
                        {"role": "Nurse", "description": "care"},
                    ],
                },
                {"goal": "FRDT", "members": [{"role": "X", "description": "y"}]},
            ],
            False,
        ),
    ],
)
def test_parse_reply(spec, text, value, defaulted):
    assert parse_reply(ParseSpec.model_validate(spec), text) == (value, defaulted)


def test_bundled_files_are_what_the_package_ships():
    here = Path(__file__).resolve().parents[2] / "medevals" / "systems"
    assert sorted(p.stem for p in here.glob("*.yaml")) == ["debate", "mdagents", "medagents", "vote"]


def test_a_suite_entry_names_systems_relative_to_the_suite(tmp_path):
    from medevals.suites import load_suite

    (tmp_path / "sys").mkdir()
    (tmp_path / "sys" / "pair.yaml").write_text(MINIMAL, encoding="utf-8")
    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "s"\n[[benchmark]]\nname = "demo"\nsystem = "debate:2x2, sys/pair.yaml"\n'
        'options = { strategy = "zero-shot" }\n',
        encoding="utf-8",
    )
    (entry,) = load_suite(str(suite)).benchmark
    pair = str((tmp_path / "sys" / "pair.yaml").resolve())
    assert entry.run_options() == {"strategy": "zero-shot", "system": ["debate:2x2", pair]}
    assert [s.variant for s in resolve_systems(entry.run_options()["system"])] == [
        "system:debate:2x2",
        "system:pair",
    ]
    bundled_entry = load_suite("agents-hard").benchmark[0]
    assert [s.variant for s in resolve_systems(bundled_entry.run_options()["system"])] == [
        "system:medagents",
        "system:mdagents",
        "system:debate",
        "system:vote5",
    ]
