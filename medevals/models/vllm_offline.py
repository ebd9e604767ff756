"""vLLM's offline engine run in-process (``vllm:PATH_OR_HUB_ID``), GPU only.

vLLM is fastest when it gets many prompts at once, but the harness sends one request per
``send``. So requests wait in a queue for a few milliseconds and everything that arrived
meanwhile goes into one ``llm.chat`` / ``llm.generate`` call (per-prompt SamplingParams).
While that call runs in a worker thread, new requests pile up for the next batch.

Answers are shaped like the OpenAI server's (logprobs in the chat layout), so caching and
``medevals.models.openai_format`` see no difference from ``openai:`` with a vLLM server.

vllm is imported only in ``start()``. A request's timeout is not enforced here: vLLM's
offline call cannot be cancelled, and abandoning it would only pile retries onto the GPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from medevals.errors import ModelError
from medevals.models.base import ModelBackend, PermanentModelError
from medevals.models.hf import (
    SamplingOptions,
    local_chat_template,
    logprob_entry,
    make_choice,
    openai_response,
)
from medevals.schema import CallKind, ModelRecord

VLLM_INSTALL_HINT = "pip install -e '.[vllm]'"
#: Settings passed straight to ``vllm.LLM(...)``.
LLM_SETTINGS = (
    "tensor_parallel_size",
    "max_model_len",
    "gpu_memory_utilization",
    "dtype",
    "trust_remote_code",
    "revision",
    "quantization",
    "enforce_eager",
    "seed",
)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as e:
        raise ModelError(
            f"vllm: backend needs vLLM: {VLLM_INSTALL_HINT} (it needs a GPU; for a served model "
            f"use openai:NAME with --base-url http://HOST:PORT/v1) ({e})"
        ) from e
    return vllm


@dataclass
class _Pending:
    """One request waiting for its batch."""

    kind: str
    body: dict[str, Any]
    opts: SamplingOptions
    future: asyncio.Future[dict[str, Any]]
    group: tuple[Any, ...] = field(default=())


class VLLMBackend(ModelBackend):
    """A model served by ``vllm.LLM`` inside this process, with requests batched.

    Settings: tensor_parallel_size, max_model_len, gpu_memory_utilization, dtype (and
    trust_remote_code, revision, quantization, enforce_eager, seed) go to ``LLM()``;
    ``batch_window_ms`` (default 5) and ``max_batch`` (default 256) shape the batching.
    """

    #: Requests reach ``LLM.generate`` as text (image parts are refused): for a vision model, run
    #: ``vllm serve`` and use ``openai:NAME --base-url`` instead.
    accepts_images = False

    def __init__(self, record: ModelRecord):
        super().__init__(record)
        self.llm: Any = None
        self._vllm: Any = None
        self._tokenizer: Any = None
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()
        self.batch_window_s = float(record.settings.get("batch_window_ms", 5)) / 1000.0
        self.max_batch = max(1, int(record.settings.get("max_batch", 256)))
        #: Sizes of the batches sent to vLLM (for tests and diagnostics).
        self.batch_sizes: list[int] = []
        has_template = local_chat_template(record.name)
        if has_template is not None:
            self.base_model = not has_template

    # ----- lifecycle

    async def start(self) -> None:
        async with self._start_lock:
            if self.llm is not None:
                return
            vllm = _import_vllm()
            self._vllm = vllm
            kw = {k: self.record.settings[k] for k in LLM_SETTINGS if self.record.settings.get(k) is not None}
            try:
                self.llm = await asyncio.to_thread(vllm.LLM, model=self.record.name, **kw)
            except Exception as e:  # no GPU, out of memory, unknown architecture, missing weights
                raise ModelError(
                    f"vllm: cannot start model '{self.record.name}': {type(e).__name__}: {e}"
                ) from e
            with contextlib.suppress(Exception):
                self._tokenizer = self.llm.get_tokenizer()
            self.base_model = getattr(self._tokenizer, "chat_template", None) is None
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._batch_loop(), name="medevals-vllm-batcher")

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._queue is not None:
            while not self._queue.empty():
                p = self._queue.get_nowait()
                if not p.future.done():
                    p.future.set_exception(PermanentModelError("vllm backend closed"))
            self._queue = None
        self.llm = None

    # ----- requests

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if kind == "embedding":
            raise PermanentModelError(
                "vllm backend does not serve embeddings (use openai: with an embedding server)"
            )
        if kind not in ("chat", "completion"):
            raise PermanentModelError(f"vllm backend: unknown request kind '{kind}'")
        if self.llm is None:
            await self.start()
        assert self._queue is not None
        opts = SamplingOptions.from_body(kind, body)
        if kind == "chat" and not isinstance(body.get("messages"), list):
            raise PermanentModelError("chat request needs a 'messages' list")
        if kind == "completion" and not isinstance(body.get("prompt"), str):
            raise PermanentModelError("completion request needs 'prompt' as one string")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(kind, body, opts, future, _group_key(kind, body)))
        return await future

    async def _batch_loop(self) -> None:
        """Take the first waiting request, gather what arrives within the window, run them together."""
        assert self._queue is not None
        queue, loop = self._queue, asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + self.batch_window_s
            while len(batch) < self.max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), remaining))
                except TimeoutError:
                    break
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            live = [p for p in batch if not p.future.done()]  # callers that gave up
            if not live:
                continue
            self.batch_sizes.append(len(live))
            try:
                await self._run_batch(live)
            except Exception as e:  # never let the batcher die: its callers would wait forever
                for p in live:
                    _fail(p, e)

    async def _run_batch(self, batch: list[_Pending]) -> None:
        groups: dict[tuple[Any, ...], list[_Pending]] = {}
        for p in batch:
            groups.setdefault(p.group, []).append(p)
        for group in groups.values():
            try:
                outputs = await asyncio.to_thread(self._call, group)
            except Exception as e:
                if len(group) > 1:  # one bad request must not fail its neighbours: retry them alone
                    for p in group:
                        await self._run_batch_single(p)
                    continue
                _fail(group[0], e)
                continue
            for p, out in zip(group, outputs, strict=True):
                self._resolve(p, out)

    async def _run_batch_single(self, p: _Pending) -> None:
        try:
            (out,) = await asyncio.to_thread(self._call, [p])
        except Exception as e:
            _fail(p, e)
            return
        self._resolve(p, out)

    def _resolve(self, p: _Pending, out: Any) -> None:
        if p.future.done():
            return
        try:
            p.future.set_result(self._to_openai(p, out))
        except Exception as e:  # a malformed output is this request's failure, not the batcher's
            p.future.set_exception(PermanentModelError(f"vllm: unreadable output: {type(e).__name__}: {e}"))

    def _call(self, group: list[_Pending]) -> list[Any]:
        """One blocking vLLM call for requests of the same kind and chat options."""
        params = [self._sampling_params(p.opts) for p in group]
        first = group[0]
        if first.kind == "completion":
            return list(self.llm.generate([p.body["prompt"] for p in group], params, use_tqdm=False))
        kw: dict[str, Any] = {}
        continue_final = bool(first.body.get("continue_final_message", False))
        kw["continue_final_message"] = continue_final
        kw["add_generation_prompt"] = bool(first.body.get("add_generation_prompt", not continue_final))
        if first.body.get("tools"):
            kw["tools"] = first.body["tools"]
        return list(self.llm.chat([p.body["messages"] for p in group], params, use_tqdm=False, **kw))

    def _sampling_params(self, opts: SamplingOptions) -> Any:
        kw: dict[str, Any] = {
            # Greedy choices are identical, and some vLLM versions refuse n > 1 without sampling.
            "n": 1 if opts.greedy else opts.n,
            "max_tokens": opts.max_tokens,
            "temperature": opts.temperature,
            "top_p": opts.top_p,
        }
        if opts.top_k is not None:
            kw["top_k"] = opts.top_k
        if opts.seed is not None:
            kw["seed"] = opts.seed
        if opts.stop:
            kw["stop"] = list(opts.stop)
        if opts.logprobs is not None:
            kw["logprobs"] = opts.logprobs
        return self._vllm.SamplingParams(**kw)

    def _to_openai(self, p: _Pending, out: Any) -> dict[str, Any]:
        choices: list[dict[str, Any]] = []
        completion_tokens = 0
        for i, o in enumerate(sorted(out.outputs, key=lambda o: getattr(o, "index", 0))):
            token_ids = list(o.token_ids or [])
            completion_tokens += len(token_ids)
            lps = None
            if p.opts.logprobs is not None:
                lps = self._logprobs(token_ids, o.logprobs or [], p.opts.logprobs)
            choices.append(make_choice(p.kind, i, o.text, o.finish_reason or "stop", lps))
        if p.opts.greedy and p.opts.n > 1 and len(choices) == 1:
            choices = [{**choices[0], "index": i} for i in range(p.opts.n)]
            completion_tokens *= p.opts.n
        prompt_tokens = len(getattr(out, "prompt_token_ids", None) or [])
        return openai_response(p.kind, self.record.name, "vllm", choices, prompt_tokens, completion_tokens)

    def _logprobs(
        self, token_ids: list[int], positions: list[dict[int, Any]], k: int
    ) -> list[dict[str, Any]]:
        """vLLM's per-position {token_id: Logprob(logprob, rank, decoded_token)} -> chat layout.

        vLLM returns the top k plus the sampled token when that one is not among them.
        """
        out: list[dict[str, Any]] = []
        for tid, pos in zip(token_ids, positions, strict=False):
            if not pos:
                continue
            ranked = sorted(pos.items(), key=lambda kv: -float(kv[1].logprob))[:k] if k > 0 else []
            top = [(self._decoded(t, lp), float(lp.logprob)) for t, lp in ranked]
            chosen = pos.get(tid)
            logprob = float(chosen.logprob) if chosen is not None else float("-inf")
            out.append(logprob_entry(self._decoded(tid, chosen), logprob, top))
        return out

    def _decoded(self, tid: int, lp: Any) -> str:
        text = getattr(lp, "decoded_token", None) if lp is not None else None
        if text is not None:
            return str(text)
        if self._tokenizer is not None:
            with contextlib.suppress(Exception):
                return str(self._tokenizer.decode([tid]))
        return str(tid)


def _group_key(kind: str, body: dict[str, Any]) -> tuple[Any, ...]:
    """Requests that can share one vLLM call: same kind and, for chat, same template options."""
    if kind == "completion":
        return ("completion",)
    tools = json.dumps(body.get("tools"), sort_keys=True) if body.get("tools") else None
    return (
        "chat",
        bool(body.get("continue_final_message", False)),
        body.get("add_generation_prompt"),
        tools,
    )


def _fail(p: _Pending, e: Exception) -> None:
    if p.future.done():
        return
    # vLLM refuses bad requests with ValueError (prompt longer than max_model_len, bad params);
    # resending the same request would fail the same way, so nothing here is retryable.
    p.future.set_exception(PermanentModelError(f"vllm: {type(e).__name__}: {e}"))
