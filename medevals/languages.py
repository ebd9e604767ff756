"""The languages medevals can prompt in and read answers in: one list, used by prompts and extraction.

A language changes two things and nothing else: the wording of the prompts a protocol sends
(``protocols/mcq_prompts.py``) and the phrases answer extraction reads ("la respuesta es (C)",
"答案是C", ``scoring/phrases.py``). Which language an item is put in: ``--set language=X`` for
every item of the run, else the item's own language (``Item.metadata["language"]``, stamped by
the benchmark's loader or a custom spec's ``language:``), else English.
"""

from __future__ import annotations

from typing import Any

from medevals.errors import ConfigError

#: ISO 639-1 code -> English name.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "de": "German",
    "pt": "Portuguese",
    "zh": "Chinese",
    "ja": "Japanese",
}
DEFAULT = "en"

_ALIASES = {name.lower(): code for code, name in LANGUAGES.items()} | {
    "español": "es",
    "castellano": "es",
    "français": "fr",
    "italiano": "it",
    "deutsch": "de",
    "português": "pt",
    "中文": "zh",
    "日本語": "ja",
}


def normalize(value: Any) -> str:
    """``"es"``, ``"ES"``, ``"es-ES"``, ``"pt_BR"``, ``"Spanish"`` -> ``"es"``; anything else is a ConfigError."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"language must be one of {', '.join(LANGUAGES)}, got {value!r}")
    v = value.strip().lower().replace("_", "-")
    code = _ALIASES.get(v) or v.split("-", 1)[0]
    if code not in LANGUAGES:
        raise ConfigError(f"unknown language '{value}' (known: {', '.join(LANGUAGES)})")
    return code


def of_item(metadata: dict[str, Any], override: str | None = None) -> str:
    """The language an item is put in: the run's override, else the item's own, else English."""
    return override or metadata.get("language") or DEFAULT
