"""Retry-reason and error-kind keys: short, and never cut mid-word."""

from __future__ import annotations

import pytest

from medevals.errors import reason_key


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("HTTP 503: Service Unavailable", "HTTP 503"),
        ("timeout after 300s (before headers)", "timeout after 300s (before headers)"),
        ("response too large: over the cap of 1 bytes as read", "response too large"),
        ("response body is not valid JSON (1234567 bytes)", "response body is not valid JSON…"),
        (
            "connection error to http://127.0.0.1:8000/v1: ClientConnectorError: refused",
            "connection error to…",
        ),
        ("TimeoutError: took too long", "TimeoutError"),
        ("x" * 50, "x" * 40 + "…"),  # one word longer than the limit: cut, and marked as cut
    ],
)
def test_reason_key_is_the_head_cut_at_a_word(message, key):
    assert reason_key(message) == key


def test_error_kind_limit_is_a_parameter():
    msg = "ValueError raised by the scorer of a protocol with a long name (details): trace"
    assert reason_key(msg, 60) == "ValueError raised by the scorer of a protocol with a long…"
