"""Protocol name -> class, imported lazily. Later capabilities add one line each."""

from __future__ import annotations

import importlib

from medevals.errors import ConfigError
from medevals.protocols.base import Protocol
from medevals.schema import BenchmarkRecord

PROTOCOLS: dict[str, str] = {
    "mcq": "medevals.protocols.mcq:MCQProtocol",
    # calculators
    "calc": "medevals.protocols.calc:CalcProtocol",
    "calc-workflow": "medevals.protocols.calc_workflow:CalcWorkflowProtocol",
    # judged (rubrics, diagnosis, error detection)
    "rubric": "medevals.protocols.rubric:RubricProtocol",
    "rubric-meta": "medevals.protocols.rubric_meta:RubricMetaProtocol",
    "open-diagnosis": "medevals.protocols.open_diagnosis:OpenDiagnosisProtocol",
    "error-detection": "medevals.protocols.error_detection:ErrorDetectionProtocol",
    "freetext": "medevals.protocols.graded_text:FreeTextProtocol",
    # interactive consultation
    "interactive": "medevals.protocols.interactive:InteractiveProtocol",
    "agentclinic": "medevals.protocols.agentclinic:AgentClinicProtocol",
    # agent in an EHR
    "ehr-agent": "medevals.protocols.ehr_agent:EHRAgentProtocol",
    # retrieval, RAG, NER
    "retrieval": "medevals.protocols.retrieval:RetrievalProtocol",
    "rag": "medevals.protocols.rag:RAGProtocol",
    "ner": "medevals.protocols.ner:NERProtocol",
    # long documents, pairwise, step verification
    "longdoc": "medevals.protocols.longdoc:LongDocProtocol",
    "step-verify": "medevals.protocols.steps:StepVerifyProtocol",
    "pairwise": "medevals.protocols.pairwise:PairwiseProtocol",
    # strategies and probes
    # images
    "paired-mcq": "medevals.protocols.paired:PairedMCQProtocol",
    "vqa": "medevals.protocols.vqa:VQAProtocol",
}

#: (benchmark protocol, run option) -> the protocol used when that option is given, e.g.
#: ``--rag bm25`` puts an MCQ benchmark through retrieval-augmented answering.
OPTION_PROTOCOLS: dict[tuple[str, str], str] = {
    ("mcq", "rag"): "rag",
}


def resolve_protocol(name: str, options: dict[str, object]) -> str:
    """The protocol a benchmark runs under, given the run's options (``OPTION_PROTOCOLS``)."""
    for (base, option), switched in OPTION_PROTOCOLS.items():
        if base == name and options.get(option) is not None:
            return switched
    return name


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
