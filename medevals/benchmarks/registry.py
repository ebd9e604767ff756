"""Name -> benchmark, resolved lazily so start-up never imports or indexes every benchmark.

A benchmark is either a built-in (module attribute listed in ``BUILTIN``) or a YAML spec file
given by path (``--benchmark path/to/spec.yaml``, see ``custom``). Later capabilities add one
line to ``BUILTIN``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from medevals.benchmarks.base import Benchmark
from medevals.errors import ConfigError

BUILTIN: dict[str, str] = {
    "demo": "medevals.benchmarks.demo:DEMO",
    "medqa": "medevals.benchmarks.mcq_sets:MEDQA",
    "medmcqa": "medevals.benchmarks.mcq_sets:MEDMCQA",
    "pubmedqa": "medevals.benchmarks.mcq_sets:PUBMEDQA",
    "mmlu-med": "medevals.benchmarks.mcq_sets:MMLU_MED",
    "medbullets": "medevals.benchmarks.mcq_sets:MEDBULLETS",
    "medagentsbench": "medevals.benchmarks.mcq_sets:MEDAGENTSBENCH",
    # exams in other languages
    "headqa": "medevals.benchmarks.language_exams:HEADQA",
    "frenchmedmcqa": "medevals.benchmarks.language_exams:FRENCHMEDMCQA",
    "cmexam": "medevals.benchmarks.language_exams:CMEXAM",
    "igakuqa": "medevals.benchmarks.language_exams:IGAKUQA",
    # calculators
    "medcalc": "medevals.benchmarks.medcalc:MEDCALC",
    "medcalc-gen": "medevals.benchmarks.medcalc_gen:MEDCALC_GEN",
    "medmcp-calc": "medevals.benchmarks.medmcp_calc:MEDMCP_CALC",
    # judged (rubrics, diagnosis, error detection)
    "healthbench": "medevals.benchmarks.judged_sets:HEALTHBENCH",
    "healthbench-meta": "medevals.benchmarks.judged_sets:HEALTHBENCH_META",
    "cupcase": "medevals.benchmarks.judged_sets:CUPCASE",
    "medec": "medevals.benchmarks.judged_sets:MEDEC",
    "cupcase-mcq": "medevals.benchmarks.judged_sets:CUPCASE_MCQ",
    # free text against references
    "aci-bench": "medevals.benchmarks.freetext_sets:ACI_BENCH",
    "medrbench-diagnosis": "medevals.benchmarks.freetext_sets:MEDRBENCH_DIAGNOSIS",
    "medrbench-treatment": "medevals.benchmarks.freetext_sets:MEDRBENCH_TREATMENT",
    "medicationqa": "medevals.benchmarks.freetext_sets:MEDICATIONQA",
    "medsafetybench": "medevals.benchmarks.freetext_sets:MEDSAFETYBENCH",
    # interactive consultation
    "mediq-imedqa": "medevals.benchmarks.mediq:MEDIQ_IMEDQA",
    "mediq-icraftmd": "medevals.benchmarks.mediq:MEDIQ_ICRAFTMD",
    "medqa-interactive": "medevals.benchmarks.interactive_convert:MEDQA_INTERACTIVE",
    "agentclinic": "medevals.benchmarks.agentclinic:AGENTCLINIC",
    # agent in an EHR
    "ehr-agent": "medevals.benchmarks.ehr_agent:EHR_AGENT",
    # retrieval, RAG, NER
    "pubmedqa-retrieval": "medevals.benchmarks.retrieval_sets:PUBMEDQA_RETRIEVAL",
    "bioasq-retrieval": "medevals.benchmarks.retrieval_sets:BIOASQ_RETRIEVAL",
    "ncbi-disease": "medevals.benchmarks.ner_sets:NCBI_DISEASE",
    "bc5cdr": "medevals.benchmarks.ner_sets:BC5CDR",
    # long documents, pairwise, step verification
    "pubmedqa-long": "medevals.benchmarks.longdoc_sets:PUBMEDQA_LONG",
    "medcalc-steps": "medevals.benchmarks.medcalc_steps:MEDCALC_STEPS",
    # strategies and probes
    # images
    "covid-cxr": "medevals.benchmarks.image_sets:COVID_CXR",
    "mediconfusion": "medevals.benchmarks.image_sets:MEDICONFUSION",
    "vqa-rad": "medevals.benchmarks.vqa_sets:VQA_RAD",
    "slake": "medevals.benchmarks.vqa_sets:SLAKE",
    "pathvqa": "medevals.benchmarks.vqa_sets:PATHVQA",
    "gmai-mmbench": "medevals.benchmarks.vqa_sets:GMAI_MMBENCH",
}

ALIASES: dict[str, str] = {
    "head-qa": "headqa",
    "mmlu_med": "mmlu-med",
    "mmlu-medical": "mmlu-med",
    "medagents": "medagentsbench",
}


def names() -> list[str]:
    return list(BUILTIN)


def _import(target: str) -> Benchmark:
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def get(name: str) -> Benchmark:
    """A built-in benchmark by name (``name:split`` is handled by the caller), or a YAML spec by path."""
    if name.endswith((".yaml", ".yml")) or Path(name).suffix in (".yaml", ".yml"):
        from medevals.benchmarks.custom import load_spec

        return load_spec(Path(name))
    if name not in BUILTIN and name not in ALIASES and Path(name).is_dir():  # a BEIR/MTEB folder by path
        from medevals.benchmarks.retrieval_sets import beir_folder_benchmark

        return beir_folder_benchmark(Path(name))
    key = ALIASES.get(name, name)
    if key not in BUILTIN:
        import difflib

        close = difflib.get_close_matches(name, list(BUILTIN) + list(ALIASES), n=2)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise ConfigError(
            f"unknown benchmark '{name}'{hint}; `medevals list` shows them, or pass a spec.yaml path"
        )
    return _import(BUILTIN[key])


def all_benchmarks() -> list[Benchmark]:
    return [_import(t) for t in BUILTIN.values()]
