"""Credentials off URLs, out of recorded command lines, out of echoed replies."""

from __future__ import annotations

import pytest

from medevals.errors import ConfigError
from medevals.models.credentials import Redactor, check_env_name, redact_argv, split_credentials
from medevals.models.registry import make_record


def test_split_credentials_percent_decodes():
    url, creds = split_credentials("http://bob:p%40ss%3Aword@host:8000/v1")
    assert url == "http://host:8000/v1" and creds == ("bob", "p@ss:word")
    assert split_credentials("http://host:8000/v1") == ("http://host:8000/v1", None)
    assert split_credentials("https://sk-KEY@api.example.com/v1") == (
        "https://api.example.com/v1",
        ("sk-KEY", ""),
    )


def test_redact_argv_removes_every_userinfo():
    argv = [
        "run",
        "--base-url",
        "http://u:secret@h/v1",
        "--judge",
        "openai:a@https://x:y@j/v1,openai:b",
        "-b",
        "a@b",
    ]
    assert redact_argv(argv) == [
        "run",
        "--base-url",
        "http://h/v1",
        "--judge",
        "openai:a@https://j/v1,openai:b",
        "-b",
        "a@b",
    ]


def test_make_record_keeps_credentials_off_the_record():
    rec = make_record("openai:m", base_url="http://bob:hunter22@host:8000/v1")
    assert rec.base_url == "http://host:8000/v1" and rec._url_credentials == ("bob", "hunter22")
    assert "hunter22" not in rec.model_dump_json() and "hunter22" not in repr(rec.model_dump())
    assert rec.settings["api_key_required"] is False  # the URL carries the credentials


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "my_key", "_K1"])
def test_variable_names_pass(name):
    check_env_name(name)


def test_a_bad_short_name_is_named():
    with pytest.raises(ConfigError, match="'my-key' is not an environment variable name"):
        check_env_name("my-key")


def test_redactor_skips_short_credentials_and_escaped_slashes():
    r = Redactor(["short", "sk-abc/def+ghi123"])
    assert r.secrets == ["sk-abc/def+ghi123"]
    assert r.in_bytes(b'{"e": "sk-abc\\/def+ghi123"}') and not r.in_bytes(b'{"e": "short"}')
    assert r.tree({"sk-abc/def+ghi123": ["x sk-abc/def+ghi123 y", 3]}) == {
        "[redacted]": ["x [redacted] y", 3]
    }
    assert not Redactor([None, ""])
