"""The cyclic GC is paused while the CLI starts and collects again once a run's engine starts
(commands/startup.py), and is never left off when a command ends, however it ends."""

from __future__ import annotations

import gc
import os

from clihelp import fake_run_args, run_cli

import medevals.evaluate as evaluate


def test_paused_through_start_up_and_collecting_during_the_run(fake_server, tmp_path, capsys, monkeypatch):
    seen: dict[str, bool] = {}
    prepare, execute = evaluate.prepare, evaluate.execute

    def spy_prepare(cfg):
        seen["prepare"] = gc.isenabled()
        return prepare(cfg)

    async def spy_execute(*a, **k):
        seen["execute"] = gc.isenabled()
        return await execute(*a, **k)

    monkeypatch.setattr(evaluate, "prepare", spy_prepare)
    monkeypatch.setattr(evaluate, "execute", spy_execute)
    code, _, err = run_cli(fake_run_args(fake_server(), tmp_path, "--limit", "4"), capsys)
    assert code == 0, err
    assert seen == {"prepare": False, "execute": True}
    assert gc.isenabled()


def test_other_commands_and_failures_leave_it_on(tmp_path, capsys):
    assert run_cli(["list"], capsys)[0] == 0
    assert gc.isenabled()
    assert run_cli(["run", "--limit", "abc"], capsys)[0] == 2
    assert gc.isenabled()
    assert run_cli(["report", str(tmp_path / "missing")], capsys)[0] != 0
    assert gc.isenabled()


def test_pydantic_plugin_scan_is_off_unless_the_user_set_it(capsys, monkeypatch):
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    assert run_cli(["list"], capsys)[0] == 0
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "none")  # the user's choice: plugins load
    assert run_cli(["list"], capsys)[0] == 0
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "none"
