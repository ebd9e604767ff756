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
    "hf": "transformers model loaded in-process (pip install 'medevals[hf]')",
    "vllm": "vLLM offline engine in-process (pip install 'medevals[vllm]', GPU)",
    "replay": "recorded outputs (JSONL of {id, output|response}) answer each item: rescore published outputs",
}

HOSTED_DEFAULT_URL = "https://api.openai.com/v1"


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
        from medevals.models.credentials import check_env_name, split_credentials

        if api_key_env is not None:
            check_env_name(api_key_env)
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ConfigError(
                f"model '{spec}': no server given; pass --base-url http://HOST:PORT/v1 "
                f"(or --base-url {HOSTED_DEFAULT_URL} for the hosted API, or set OPENAI_BASE_URL)"
            )
        # user:password@ in the URL is sent as Basic auth and never recorded (models/credentials.py)
        url, creds = split_credentials(url)
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


def _is_local(url: str) -> bool:
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    return host in {"localhost", "::1"} or host.startswith("127.") or host.endswith(".local")


def create_backend(record: ModelRecord, *, concurrency: int = 8) -> ModelBackend:
    if record.backend == "builtin":
        from medevals.models.builtin import EMBEDDING_MODELS, BuiltinBackend

        if record.name.split("@")[0] in EMBEDDING_MODELS:
            from medevals.models.builtin_embed import MiniLMBackend

            return MiniLMBackend(record)
        return BuiltinBackend(record, concurrency=concurrency)
    if record.backend == "openai":
        from medevals.models.openai_compat import OpenAICompatBackend

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
