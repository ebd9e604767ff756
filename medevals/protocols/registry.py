"""Protocol name -> class, imported lazily. Later capabilities add one line each."""

from __future__ import annotations

import importlib

from medevals.errors import ConfigError
from medevals.protocols.base import Protocol

PROTOCOLS: dict[str, str] = {
    "mcq": "medevals.protocols.mcq:MCQProtocol",
}


def get_protocol(name: str) -> type[Protocol]:
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol '{name}' (known: {', '.join(PROTOCOLS)})")
    module, attr = PROTOCOLS[name].split(":")
    return getattr(importlib.import_module(module), attr)
