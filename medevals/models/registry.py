"""Model specs (``openai:NAME``, ``builtin:gemma3-270m``, ``hf:PATH``, ``vllm:PATH``) -> backends.

Backend modules are imported only when used, so ``medevals --help`` and ``medevals list`` stay fast.
"""

from __future__ import annotations

import os
from typing import Any

from medevals.errors import ConfigError
from medevals.models.base import ModelBackend
from medevals.schema import ModelRecord

PREFIXES = {
    "openai": "any OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama, hosted APIs); needs --base-url",
    "builtin": "embedded models run in-process: builtin:gemma3-270m (LLM), builtin:minilm (embeddings, extra 'embed')",
    "hf": "transformers model loaded in-process (pip install -e '.[hf]')",
    "vllm": "vLLM offline engine in-process (pip install -e '.[vllm]', GPU)",
    "replay": "recorded outputs (JSONL of {id, output|response}) answer each item: rescore published outputs",
}

HOSTED_DEFAULT_URL = "https://api.openai.com/v1"
#: Backends that load the model into the process (a Ray run loads them on its workers only).
IN_PROCESS = ("builtin", "hf", "vllm")


def parse_spec(spec: str) -> tuple[str, str]:
    if ":" not in spec:
        raise ConfigError(
            f"model '{spec}': expected PREFIX:NAME with PREFIX one of {', '.join(PREFIXES)} "
            f"(e.g. builtin:gemma3-270m, openai:llama3 --base-url http://127.0.0.1:8080/v1)"
        )
    prefix, name = spec.split(":", 1)
    if prefix not in PREFIXES:
        raise ConfigError(
            f"model '{spec}': unknown prefix '{prefix}:' (known: {', '.join(p + ':' for p in PREFIXES)})"
        )
    if not name:
        raise ConfigError(f"model '{spec}': empty model name after '{prefix}:'")
    return prefix, name


def make_record(
    spec: str,
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
    settings: dict[str, Any] | None = None,
) -> ModelRecord:
    """Describe a model (without secrets) from its spec and options."""
    prefix, name = parse_spec(spec)
    settings = dict(settings or {})
    if prefix == "builtin":
        from medevals.models.builtin import builtin_record

        return builtin_record(name, settings)
    if prefix == "replay":
        from medevals.models.replay import replay_record

        return replay_record(name, settings)
    if prefix == "openai":
        from medevals.models.credentials import check_env_name

        if api_key_env is not None:
            check_env_name(api_key_env)
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ConfigError(
                f"model '{spec}': no server given; pass --base-url http://HOST:PORT/v1 "
                f"(or --base-url {HOSTED_DEFAULT_URL} for the hosted API, or set OPENAI_BASE_URL)"
            )
        # user:password@ in the URL is sent as Basic auth and never recorded (models/credentials.py);
        # URL1,URL2,... are replicas of one model (models/replicas.py), sharing one credential
        url, creds = _split_replica_credentials(spec, url)
        if creds is not None and api_key_env:
            raise ConfigError(
                f"model '{spec}': the base URL carries credentials (user:password@, sent as Basic auth) "
                f"and --api-key-env names a key too; a request carries one Authorization header: give one"
            )
        env = api_key_env or "OPENAI_API_KEY"
        # A hosted API without a key fails on every call; say so before the first one.
        settings.setdefault("api_key_required", bool(api_key_env) or (creds is None and not _is_local(url)))
        record = ModelRecord(
            spec=spec, backend="openai", name=name, base_url=url, api_key_env=env, settings=settings
        )
        record._url_credentials = creds
        return record
    return ModelRecord(spec=spec, backend=prefix, name=name, settings=settings)


def _split_replica_credentials(spec: str, url: str) -> tuple[str, tuple[str, str] | None]:
    from medevals.engine.keys import normalize_base_url
    from medevals.models.credentials import split_credentials
    from medevals.models.replicas import split_urls

    urls = split_urls(url)
    if not urls:
        raise ConfigError(f"model '{spec}': --base-url is empty")
    parts = [split_credentials(u) for u in urls]
    creds = {c for _, c in parts}
    if len(creds) > 1:
        raise ConfigError(
            f"model '{spec}': the replicas in --base-url carry different credentials (user:password@); "
            "replicas of one model share one credential"
        )
    if len({normalize_base_url(u) for u, _ in parts}) < len(parts):
        raise ConfigError(f"model '{spec}': --base-url names the same server twice")
    return ",".join(u for u, _ in parts), creds.pop()


def _is_local(url: str) -> bool:
    from urllib.parse import urlparse

    from medevals.models.replicas import split_urls

    def local(u: str) -> bool:
        host = urlparse(u).hostname or ""
        return host in {"localhost", "::1"} or host.startswith("127.") or host.endswith(".local")

    return all(local(u) for u in split_urls(url))


def create_backend(record: ModelRecord, *, concurrency: int = 8) -> ModelBackend:
    if record.backend == "builtin":
        from medevals.models.builtin import EMBEDDING_MODELS, BuiltinBackend

        if record.name.split("@")[0] in EMBEDDING_MODELS:
            from medevals.models.builtin_embed import MiniLMBackend

            return MiniLMBackend(record)
        return BuiltinBackend(record, concurrency=concurrency)
    if record.backend == "openai":
        from medevals.models.openai_compat import OpenAICompatBackend
        from medevals.models.replicas import ReplicaSetBackend

        if "," in (record.base_url or ""):
            backend: ModelBackend = ReplicaSetBackend(record, concurrency=concurrency)
        else:
            backend = OpenAICompatBackend(record, concurrency=concurrency)
        backend._api_key()  # fail now, with the variable's name, if a required key is missing
        return backend
    if record.backend == "replay":
        from medevals.models.replay import ReplayBackend

        return ReplayBackend(record)
    if record.backend == "hf":
        from medevals.models.hf import HFBackend

        return HFBackend(record)
    if record.backend == "vllm":
        from medevals.models.vllm_offline import VLLMBackend

        return VLLMBackend(record)
    raise ConfigError(f"model '{record.spec}': no backend for '{record.backend}'")
