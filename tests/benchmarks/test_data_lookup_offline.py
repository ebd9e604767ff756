"""Where data is found without --data-dir/$MEDEVALS_DATA, and the at-once error when the hub
cannot be used (offline mode set, or its host refusing a connection) instead of ~30 s of retries."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from clihelp import run_cli

from medevals.benchmarks import base, hub_reach, registry
from medevals.errors import DataError

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
ROW = json.dumps({"question": "Q?", "options": {"A": "a", "B": "b"}, "answer_idx": "B"})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: a connect is refused at once


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    """A working directory without data/ or ../shared/data, no $MEDEVALS_DATA, no proxy."""
    work = tmp_path / "clone"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("MEDEVALS_DATA", raising=False)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(hub_reach, "_cache", {})
    return work


@pytest.fixture
def hub_refusing(monkeypatch, no_data):
    """Online mode, but the hub endpoint is a closed local port."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    port = _closed_port()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    return port


def test_offline_mode_fails_at_once_naming_the_variable_and_the_folders_looked_in(no_data, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError) as e:
        base.load(registry.get("medqa"))
    msg = str(e.value)
    assert "hub is not usable (offline mode is set (HF_HUB_OFFLINE=1))" in msg
    assert "--data-dir DIR or set MEDEVALS_DATA=DIR with DIR/medqa/" in msg
    assert "looked in ./data/medqa, ./../shared/data/medqa" in msg


def test_offline_values_as_huggingface_hub_reads_them(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "TRUE")
    assert hub_reach.offline_setting() == "HF_DATASETS_OFFLINE=TRUE"
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    assert hub_reach.offline_setting() is None


def test_unreachable_hub_is_one_connect_then_an_error_without_datasets_retries(hub_refusing, monkeypatch):
    calls = []
    real = socket.create_connection

    def counting(addr, *a, **kw):
        calls.append(addr)
        return real(addr, *a, **kw)

    monkeypatch.setattr(socket, "create_connection", counting)
    for _ in range(2):  # the answer is kept for the process: one connect for both
        with pytest.raises(DataError, match=rf"127.0.0.1:{hub_refusing} unreachable: Connection refused"):
            base.load(registry.get("medqa"))
    assert calls == [("127.0.0.1", hub_refusing)]


def test_proxy_is_what_gets_checked(monkeypatch, hub_refusing):
    proxy_port = _closed_port()
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.org")
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy_port}")
    monkeypatch.setenv("no_proxy", "")
    assert hub_reach.unreachable_reason() == f"proxy 127.0.0.1:{proxy_port} unreachable: Connection refused"


def test_run_command_prints_one_line_and_exits_2(hub_refusing, capsys, tmp_path):
    code, _out, err = run_cli(
        [
            "run",
            "-m",
            "openai:x",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "-b",
            "medqa",
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        capsys,
    )
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Connection refused" in err and "Retrying" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("layout", ["data", "../shared/data"])
def test_default_data_folders_are_used_without_data_dir(no_data, monkeypatch, layout):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = no_data / layout / "medqa"
    folder.mkdir(parents=True)
    (folder / "phrases_no_exclude_test.jsonl").write_text(ROW + "\n", encoding="utf-8")
    data = base.load(registry.get("medqa"))
    assert len(data.items) == 1 and data.source == f"local:{layout}/medqa"
    assert base.data_root(None) == Path(layout)
