"""Protocol name -> class, imported lazily. Later capabilities add one line each."""

from __future__ import annotations

import importlib

from medevals.errors import ConfigError
from medevals.protocols.base import Protocol
from medevals.schema import BenchmarkRecord

PROTOCOLS: dict[str, str] = {
    "mcq": "medevals.protocols.mcq:MCQProtocol",
    # calculators
    # judged (rubrics, diagnosis, error detection)
    "rubric": "medevals.protocols.rubric:RubricProtocol",
    "open-diagnosis": "medevals.protocols.open_diagnosis:OpenDiagnosisProtocol",
    "error-detection": "medevals.protocols.error_detection:ErrorDetectionProtocol",
    # interactive consultation
    # agent in an EHR
    # retrieval, RAG, NER
    # strategies and probes
}


def protocol_from_record(record: BenchmarkRecord, where: str) -> Protocol:
    """Rebuild a benchmark's protocol from the options its run manifest recorded (for rescore and metrics)."""
    cls = get_protocol(record.protocol)
    opts = {k: v for k, v in record.options.items() if k in cls.Options.model_fields}
    return cls(cls.parse_options(opts, where=f"{where} [{record.name}]"))


def get_protocol(name: str) -> type[Protocol]:
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol '{name}' (known: {', '.join(PROTOCOLS)})")
    module, attr = PROTOCOLS[name].split(":")
    return getattr(importlib.import_module(module), attr)
