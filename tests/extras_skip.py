"""Skip tests whose optional extra is not installed, saying which and how to install it."""

from __future__ import annotations

import pytest

from medevals.extras import install_hint, missing


def reason(extra: str) -> str:
    return f"the '{extra}' extra is not installed ({install_hint(extra)})"


def skip_module_without(extra: str) -> None:
    """Call at the top of a test module, before importing what the extra provides."""
    if missing(extra):
        pytest.skip(reason(extra), allow_module_level=True)


def needs(extra: str) -> pytest.MarkDecorator:
    """``@needs("fhir")`` on a test (or ``pytestmark = needs(...)``)."""
    return pytest.mark.skipif(bool(missing(extra)), reason=reason(extra))
