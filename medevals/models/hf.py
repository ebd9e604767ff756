"""A transformers causal LM run in-process (``hf:PATH_OR_HUB_ID``).

For models no server is set up for: the weights are loaded into this process and every
request is answered with ``model.generate``. The answer is shaped like an OpenAI response
(logprobs in the chat layout, ``usage``, ``finish_reason``) so that caching, the journal and
``medevals.models.openai_format`` treat it exactly like a served model's.

torch and transformers are imported only in ``start()``: ``import medevals.models.hf`` stays
cheap and works without them (``pip install -e '.[hf]'`` brings them).

One device runs one ``generate`` at a time, so requests are serialised with a lock and the
backend announces ``max_concurrency = 1``. Greedy decoding with ``n > 1`` generates once and
repeats the choice (transformers refuses ``num_return_sequences`` without sampling, and greedy
choices are identical anyway).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medevals.errors import ModelError
from medevals.models.base import ModelBackend, PermanentModelError, TransientModelError
from medevals.schema import CallKind, Message, ModelRecord

HF_INSTALL_HINT = "pip install -e '.[hf]'"
DEFAULT_MAX_TOKENS = 256

_DTYPES = {
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
}


# --------------------------------------------------------------------------------------------
# Request reading shared with the vLLM backend (kept torch-free).


@dataclass
class SamplingOptions:
    """The generation knobs of an OpenAI request body, validated once for both in-process backends.

    A missing or zero temperature means greedy decoding (evaluation wants reproducible answers
    unless a protocol asks for samples). ``logprobs`` is the number of alternatives per
    position, or None when the request wants no logprobs.
    """

    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None
    seed: int | None = None
    n: int = 1
    stop: list[str] = field(default_factory=list)
    logprobs: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    @classmethod
    def from_body(cls, kind: str, body: dict[str, Any]) -> SamplingOptions:
        try:
            max_tokens = body.get("max_tokens")
            if max_tokens is None:
                max_tokens = body.get("max_completion_tokens")
            opts = cls(
                max_tokens=DEFAULT_MAX_TOKENS if max_tokens is None else int(max_tokens),
                temperature=float(body.get("temperature") or 0.0),
                top_p=1.0 if body.get("top_p") is None else float(body["top_p"]),
                top_k=None if body.get("top_k") in (None, -1, 0) else int(body["top_k"]),
                seed=None if body.get("seed") is None else int(body["seed"]),
                n=1 if body.get("n") is None else int(body["n"]),
                stop=_stop_list(body.get("stop")),
                logprobs=_logprobs_k(body),
            )
        except (TypeError, ValueError) as e:
            raise PermanentModelError(f"bad {kind} request: {e}") from e
        if opts.max_tokens < 1:
            raise PermanentModelError(f"bad {kind} request: max_tokens must be >= 1, got {opts.max_tokens}")
        if opts.n < 1:
            raise PermanentModelError(f"bad {kind} request: n must be >= 1, got {opts.n}")
        if not 0.0 < opts.top_p <= 1.0:
            raise PermanentModelError(f"bad {kind} request: top_p must be in (0, 1], got {opts.top_p}")
        if opts.logprobs is not None and opts.logprobs < 0:
            raise PermanentModelError(f"bad {kind} request: logprobs must be >= 0, got {opts.logprobs}")
        return opts


def _stop_list(stop: Any) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        return [s for s in stop if s]
    raise ValueError(f"stop must be a string or a list of strings, got {stop!r}")


def _logprobs_k(body: dict[str, Any]) -> int | None:
    """Chat asks ``logprobs: true, top_logprobs: k``; completion asks ``logprobs: k``."""
    lp = body.get("logprobs")
    if lp is None or lp is False:
        return None
    if lp is True:
        return int(body.get("top_logprobs") or 0)
    return int(lp)


def content_text(content: Any, *, where: str = "message") -> str:
    """A message's text: strings as they are, content parts joined; images are refused.

    A text-only model would silently answer without the image, so an image part is an error
    that points at a multimodal server instead.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
                continue
            if not isinstance(part, dict):
                raise PermanentModelError(f"{where}: content part {part!r} is not an object")
            ptype = part.get("type")
            if ptype in ("image_url", "image", "input_image") or "image_url" in part:
                raise PermanentModelError(
                    f"{where}: image input needs a multimodal server; serve the model with vLLM "
                    f"and use openai:NAME --base-url http://HOST:PORT/v1"
                )
            if ptype in (None, "text", "input_text"):
                texts.append(str(part.get("text", "")))
            else:
                raise PermanentModelError(f"{where}: content part of type '{ptype}' is not supported here")
        return "".join(texts)
    raise PermanentModelError(
        f"{where}: content must be a string or a list of parts, got {type(content).__name__}"
    )


def chat_messages(body: dict[str, Any]) -> list[Message]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise PermanentModelError("chat request needs a non-empty 'messages' list")
    out: list[Message] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise PermanentModelError(f"messages[{i}] must be an object with a 'role'")
        out.append({**m, "content": content_text(m.get("content"), where=f"messages[{i}]")})
    return out


def plain_transcript(messages: list[Message], *, continue_final: bool = False) -> str:
    """The prompt for a model without a chat template: ``role: content`` lines, then ``assistant:``."""
    lines = [f"{m['role']}: {m.get('content') or ''}" for m in messages]
    if continue_final:
        return "\n".join(lines)
    return "\n".join([*lines, "assistant:"])


def openai_response(
    kind: str,
    model: str,
    prefix: str,
    choices: list[dict[str, Any]],
    prompt_tokens: int,
    completion_tokens: int,
) -> dict[str, Any]:
    """Wrap choices as an OpenAI chat.completion / text_completion object."""
    return {
        "id": f"{prefix}-{uuid.uuid4().hex}",
        "object": "chat.completion" if kind == "chat" else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def make_choice(
    kind: str, index: int, text: str, finish_reason: str, logprobs: list[dict[str, Any]] | None
) -> dict[str, Any]:
    lp = None if logprobs is None else {"content": logprobs}
    if kind == "chat":
        return {
            "index": index,
            "message": {"role": "assistant", "content": text},
            "logprobs": lp,
            "finish_reason": finish_reason,
        }
    return {"index": index, "text": text, "logprobs": lp, "finish_reason": finish_reason}


def logprob_entry(token: str, logprob: float, top: list[tuple[str, float]]) -> dict[str, Any]:
    """One position in the chat logprobs layout that ``openai_format.top_logprobs`` reads."""
    return {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode("utf-8")),
        "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode("utf-8"))} for t, v in top],
    }


def first_stop(text: str, stops: list[str]) -> int | None:
    """Index where the earliest stop string starts in ``text``, or None."""
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


# --------------------------------------------------------------------------------------------


def local_chat_template(name: str) -> bool | None:
    """Whether a local model folder ships a chat template; None when ``name`` is not a local folder.

    Protocols ask ``base_model`` while building the first request, which can come before
    ``start()`` loads the tokenizer; for a local folder the answer is known without loading.
    """
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return None
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    if (folder / "additional_chat_templates").is_dir():
        return True
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(config.get("chat_template")) if isinstance(config, dict) else False


def local_vision_config(name: str) -> bool | None:
    """Whether a local model folder is a vision-language model (its config has a ``vision_config``);
    None when ``name`` is not a local folder. Known before loading, so a text-only model is refused
    before the first request of an image benchmark."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return None
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and isinstance(config.get("vision_config"), dict)


def _decode_image(url: str, where: str) -> Any:
    """A ``data:image/...;base64,`` URI (the engine sends every image so) as an RGB PIL image."""
    import base64
    import io

    head, _, data = url.partition(";base64,")
    if not head.startswith("data:image/") or not data:
        raise PermanentModelError(f"{where}: the hf backend reads images as data: URIs only")
    try:
        from PIL import Image

        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as im:
            return im.convert("RGB")
    except Exception as e:  # bad base64, not an image
        raise PermanentModelError(f"{where}: unreadable image ({type(e).__name__}: {e})") from e


def vision_messages(body: dict[str, Any]) -> tuple[list[Message], list[Any]]:
    """OpenAI chat messages -> (processor chat messages with ``{"type": "image"}`` parts, images in order)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise PermanentModelError("chat request needs a non-empty 'messages' list")
    out: list[Message] = []
    images: list[Any] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise PermanentModelError(f"messages[{i}] must be an object with a 'role'")
        content = m.get("content")
        parts: list[dict[str, Any]] = []
        if isinstance(content, str) or content is None:
            parts.append({"type": "text", "text": content or ""})
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, str):
                    parts.append({"type": "text", "text": part})
                elif isinstance(part, dict) and part.get("type") == "image_url":
                    url = (part.get("image_url") or {}).get("url", "")
                    images.append(_decode_image(str(url), f"messages[{i}]"))
                    parts.append({"type": "image"})
                elif isinstance(part, dict) and part.get("type") in (None, "text", "input_text"):
                    parts.append({"type": "text", "text": str(part.get("text", ""))})
                else:
                    raise PermanentModelError(f"messages[{i}]: content part {part!r} is not supported")
        else:
            raise PermanentModelError(f"messages[{i}]: content must be a string or a list of parts")
        out.append({"role": m["role"], "content": parts})
    return out, images


def _import_hf() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as e:
        raise ModelError(f"hf: backend needs torch and transformers: {HF_INSTALL_HINT} ({e})") from e
    return torch, transformers


class HFBackend(ModelBackend):
    """A transformers ``AutoModelForCausalLM`` loaded from ``record.name`` (local folder or hub id), or,
    when its config has a ``vision_config``, an ``AutoModelForImageTextToText`` with its
    ``AutoProcessor``: chat requests then go through the processor's chat template with the
    request's images (data URIs, in order) and ``accepts_images`` is True.

    Settings: ``device`` (default cuda when available, else cpu), ``dtype`` (auto: bfloat16 on
    cuda, float32 elsewhere), ``device_map`` (passed to from_pretrained, e.g. "auto" to spread
    a large model over GPUs), ``trust_remote_code``, ``revision``.
    """

    max_concurrency = 1
    #: Known from a local folder's config.json at once, else when start() has loaded the model.
    accepts_images: bool | None = None

    def __init__(self, record: ModelRecord):
        super().__init__(record)
        self._torch: Any = None
        self._transformers: Any = None
        self.tokenizer: Any = None
        #: The AutoProcessor of a vision-language model (None for a text model).
        self.processor: Any = None
        self.model: Any = None
        self.device: Any = None
        self.dtype: Any = None
        self._lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self._token_text_cache: dict[int, str] = {}
        has_template = local_chat_template(record.name)
        if has_template is not None:
            self.base_model = not has_template
        vision = local_vision_config(record.name)
        if vision is not None:
            self.accepts_images = vision

    # ----- lifecycle

    async def start(self) -> None:
        async with self._start_lock:
            if self.model is not None:
                return
            torch, transformers = _import_hf()
            self._torch, self._transformers = torch, transformers
            await asyncio.to_thread(self._load)
            template = getattr(self.processor, "chat_template", None) or getattr(
                self.tokenizer, "chat_template", None
            )
            self.base_model = template is None
            self.accepts_images = self.processor is not None

    def _load(self) -> None:
        torch, transformers = self._torch, self._transformers
        if not os.environ.get("MEDEVALS_DEBUG"):
            # transformers' warnings and weight-loading bars would drown the run's progress bar
            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
        s = self.record.settings
        device_map = s.get("device_map")
        device = str(s.get("device") or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = self._resolve_dtype(str(s.get("dtype") or "auto"), device)
        kw: dict[str, Any] = {"trust_remote_code": bool(s.get("trust_remote_code", False))}
        if s.get("revision"):
            kw["revision"] = str(s["revision"])
        # transformers >= 4.56 calls it ``dtype``; older versions only know ``torch_dtype``.
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        name = self.record.name
        try:
            config = transformers.AutoConfig.from_pretrained(name, **kw)
            vision = getattr(config, "vision_config", None) is not None
            if vision:
                self.processor = transformers.AutoProcessor.from_pretrained(name, **kw)
                tokenizer = self.processor.tokenizer
            else:
                tokenizer = transformers.AutoTokenizer.from_pretrained(name, **kw)
            model_kw = {**kw, dtype_kw: dtype}
            if device_map is not None:
                model_kw["device_map"] = device_map
            auto = transformers.AutoModelForImageTextToText if vision else transformers.AutoModelForCausalLM
            model = auto.from_pretrained(name, **model_kw)
            if device_map is None:
                model.to(device)
        except Exception as e:  # missing files, unknown architecture, no CUDA, a tokenizer's extra deps
            raise ModelError(
                f"hf: cannot load model '{name}' (a local folder with config.json and tokenizer files, "
                f"or a hub id reachable from here): {type(e).__name__}: {e}"
            ) from e
        model.eval()
        self.tokenizer, self.model = tokenizer, model
        self.device = model.device if device_map is not None else torch.device(device)
        self.dtype = dtype

    def _resolve_dtype(self, name: str, device: str) -> Any:
        torch = self._torch
        if name == "auto":
            return torch.bfloat16 if device.startswith("cuda") else torch.float32
        if name not in _DTYPES:
            raise ModelError(
                f"hf: unknown dtype '{name}' (use auto, {', '.join(sorted(set(_DTYPES.values())))})"
            )
        return getattr(torch, _DTYPES[name])

    async def close(self) -> None:
        async with self._lock:
            self.model = None
            self.tokenizer = None
            self.processor = None
            if self._torch is not None and self._torch.cuda.is_available():
                self._torch.cuda.empty_cache()

    # ----- requests

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if kind == "embedding":
            raise PermanentModelError("hf backend does not serve embeddings")
        if kind not in ("chat", "completion"):
            raise PermanentModelError(f"hf backend: unknown request kind '{kind}'")
        if self.model is None:
            await self.start()
        opts = SamplingOptions.from_body(kind, body)
        encoded: dict[str, Any] | None = None
        if kind == "chat" and self.processor is not None:
            prompt, encoded = await asyncio.to_thread(self._vision_inputs, body)
            add_special = False  # the chat template wrote any BOS
        else:
            prompt, add_special = self._prompt(kind, body)
        async with self._lock:
            choices, prompt_tokens, completion_tokens = await asyncio.to_thread(
                self._generate, kind, prompt, add_special, opts, timeout, encoded
            )
        return openai_response(kind, self.record.name, "hf", choices, prompt_tokens, completion_tokens)

    def _prompt(self, kind: str, body: dict[str, Any]) -> tuple[str, bool]:
        """The prompt text and whether the tokenizer should add its special tokens (BOS) to it.

        A chat template already writes BOS, so its output is tokenized without special tokens.
        """
        if kind == "completion":
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
                prompt = prompt[0]
            if not isinstance(prompt, str):
                raise PermanentModelError("completion request needs 'prompt' as one string")
            return prompt, True
        messages = chat_messages(body)
        continue_final = bool(body.get("continue_final_message", False))
        add_generation_prompt = bool(body.get("add_generation_prompt", not continue_final))
        if getattr(self.tokenizer, "chat_template", None) is None:
            return plain_transcript(messages, continue_final=continue_final), True
        kw: dict[str, Any] = {}
        if body.get("tools"):
            kw["tools"] = body["tools"]
        try:
            text = self.tokenizer.apply_chat_template(
                messages,
                tokenize=False,
                add_generation_prompt=add_generation_prompt,
                continue_final_message=continue_final,
                **kw,
            )
        except Exception as e:  # jinja errors: roles the template refuses, missing fields
            raise PermanentModelError(f"hf: chat template failed: {type(e).__name__}: {e}") from e
        return str(text), False

    def _vision_inputs(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(prompt text, processor outputs: input_ids with image tokens expanded, pixel values ...)."""
        messages, images = vision_messages(body)
        continue_final = bool(body.get("continue_final_message", False))
        try:
            prompt = self.processor.apply_chat_template(
                messages,
                tokenize=False,
                add_generation_prompt=bool(body.get("add_generation_prompt", not continue_final)),
                continue_final_message=continue_final,
            )
            encoded = self.processor(
                images=images or None, text=str(prompt), return_tensors="pt", add_special_tokens=False
            )
        except Exception as e:  # template errors, image/token count mismatches
            raise PermanentModelError(f"hf: processor failed: {type(e).__name__}: {e}") from e
        return str(prompt), dict(encoded)

    def _generate(
        self,
        kind: str,
        prompt: str,
        add_special: bool,
        opts: SamplingOptions,
        timeout: float,
        encoded: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], int, int]:
        torch, tok, model = self._torch, self.tokenizer, self.model
        extra: dict[str, Any] = {}
        if encoded is not None:  # a vision model's processor outputs: images travel beside the ids
            ids = encoded.pop("input_ids")
            encoded.pop("attention_mask", None)
            extra = {k: (v.to(self.device) if hasattr(v, "to") else v) for k, v in encoded.items()}
            if "pixel_values" in extra and self.dtype is not None:
                extra["pixel_values"] = extra["pixel_values"].to(self.dtype)
        else:
            ids = tok(prompt, add_special_tokens=add_special, return_tensors="pt")["input_ids"]
        if ids.shape[1] == 0:
            if tok.bos_token_id is None:
                raise PermanentModelError("hf: empty prompt and the tokenizer has no BOS token to start from")
            ids = torch.tensor([[tok.bos_token_id]])
        prompt_len = int(ids.shape[1])
        max_new = opts.max_tokens
        limit = _context_limit(model.config)
        if limit is not None:
            if prompt_len >= limit:
                raise PermanentModelError(
                    f"hf: prompt is {prompt_len} tokens, the model's context is {limit}"
                )
            max_new = min(max_new, limit - prompt_len)
        ids = ids.to(self.device)
        gen_cfg = model.generation_config
        eos_ids = _id_set(gen_cfg.eos_token_id) | _id_set(tok.eos_token_id)
        pad_id = gen_cfg.pad_token_id if gen_cfg.pad_token_id is not None else tok.pad_token_id
        if pad_id is None and eos_ids:
            pad_id = min(eos_ids)
        rows = 1 if opts.greedy else opts.n
        deadline = time.monotonic() + timeout if timeout and timeout > 0 else None
        stopper = self._stopping(prompt_len, opts.stop, deadline)
        kw: dict[str, Any] = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "max_new_tokens": max_new,
            "do_sample": not opts.greedy,
            "num_return_sequences": rows,
            "return_dict_in_generate": True,
            "output_logits": opts.logprobs is not None,
            "stopping_criteria": self._transformers.StoppingCriteriaList([stopper]),
            "pad_token_id": pad_id,
            **extra,
        }
        if not opts.greedy:
            kw.update(temperature=opts.temperature, top_p=opts.top_p, top_k=opts.top_k or 0)
            if opts.seed is not None:
                torch.manual_seed(opts.seed)
        try:
            with torch.inference_mode():
                out = model.generate(**kw)
        except torch.cuda.OutOfMemoryError as e:
            raise PermanentModelError(
                f"hf: out of device memory ({e}); lower max_tokens or n, or use a smaller dtype"
            ) from e
        except (RuntimeError, ValueError, IndexError, TypeError) as e:
            raise PermanentModelError(f"hf: generation failed: {type(e).__name__}: {e}") from e
        if stopper.timed_out:
            raise TransientModelError(f"timeout: hf generation took longer than {timeout:g}s")
        logits = getattr(out, "logits", None) if opts.logprobs is not None else None
        if opts.logprobs is not None and logits is None:
            logits = getattr(out, "scores", None)  # transformers too old for output_logits
        choices: list[dict[str, Any]] = []
        completion_tokens = 0
        for row in range(rows):
            gen = out.sequences[row, prompt_len:].tolist()
            text, finish, keep, counted = self._finish_row(gen, eos_ids, opts.stop, max_new)
            lps = None
            if opts.logprobs is not None and logits is not None:
                lps = self._row_logprobs(logits, row, gen[:keep], opts.logprobs)
            choices.append(make_choice(kind, row, text, finish, lps))
            completion_tokens += counted
        if opts.greedy and opts.n > 1:  # identical by construction; see the module docstring
            first = choices[0]
            choices = [{**first, "index": i} for i in range(opts.n)]
            completion_tokens *= opts.n
        return choices, prompt_len, completion_tokens

    def _finish_row(
        self, gen: list[int], eos_ids: set[int], stops: list[str], max_new: int
    ) -> tuple[str, str, int, int]:
        """Text, finish_reason, tokens kept for logprobs, tokens generated (for usage) of one row.

        Rows that finished early are padded by generate; EOS and stop strings end them.
        """
        tok = self.tokenizer
        end = len(gen)
        finish = "length" if len(gen) >= max_new else "stop"
        counted = len(gen)
        for i, t in enumerate(gen):
            if t in eos_ids:
                end, finish, counted = i, "stop", i + 1
                break
        toks = gen[:end]
        text = tok.decode(toks, skip_special_tokens=True)
        cut = first_stop(text, stops)
        if cut is None:
            return text, finish, len(toks), counted
        # Keep the tokens that start before the cut; count the ones needed to complete the stop.
        keep, counted, prev = 0, len(toks), 0
        for i in range(1, len(toks) + 1):
            prefix = tok.decode(toks[:i], skip_special_tokens=True)
            if prev < cut:
                keep = i
            prev = len(prefix)
            if first_stop(prefix, stops) is not None:
                counted = i
                break
        return text[:cut], "stop", keep, counted

    def _row_logprobs(self, logits: Any, row: int, toks: list[int], k: int) -> list[dict[str, Any]]:
        """Chat-layout logprobs from the raw per-step logits (log_softmax; before temperature/top_p, like vLLM)."""
        torch = self._torch
        out: list[dict[str, Any]] = []
        vocab = int(logits[0].shape[-1]) if len(logits) else 0
        k = min(k, vocab)
        for j, tid in enumerate(toks):
            if j >= len(logits):
                break
            lp = torch.log_softmax(logits[j][row].float(), dim=-1)
            top: list[tuple[str, float]] = []
            if k > 0:
                vals, idx = torch.topk(lp, k)
                top = [
                    (self._token_text(int(i)), float(v))
                    for v, i in zip(vals.tolist(), idx.tolist(), strict=True)
                ]
            out.append(logprob_entry(self._token_text(tid), float(lp[tid]), top))
        return out

    def _token_text(self, tid: int) -> str:
        """A token's text as it reads in the output (SentencePiece's '▁' becomes a leading space)."""
        text = self._token_text_cache.get(tid)
        if text is None:
            text = self.tokenizer.decode([tid], skip_special_tokens=False)
            piece = self.tokenizer.convert_ids_to_tokens(tid)
            if isinstance(piece, str) and piece.startswith("▁") and not text.startswith(" "):
                text = " " + text
            self._token_text_cache[tid] = text
        return text

    def _stopping(self, prompt_len: int, stops: list[str], deadline: float | None) -> Any:
        """A stopping criterion for stop strings (per row) and the call's timeout (all rows)."""
        torch, tok = self._torch, self.tokenizer
        # A stop string of L characters spans at most L tokens (+1 for a token straddling its start).
        window = max((len(s) for s in stops), default=0) + 2

        class _Stop(self._transformers.StoppingCriteria):
            timed_out = False

            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
                if deadline is not None and time.monotonic() > deadline:
                    self.timed_out = True
                    return ~done
                if stops:
                    start = max(prompt_len, input_ids.shape[1] - window)
                    for r in range(input_ids.shape[0]):
                        tail = tok.decode(input_ids[r, start:], skip_special_tokens=True)
                        done[r] = first_stop(tail, stops) is not None
                return done

        return _Stop()


def _context_limit(config: Any) -> int | None:
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        val = getattr(config, attr, None)
        if isinstance(val, int) and val > 0:
            return val
    return None


def _id_set(value: Any) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, int):
        return {value}
    return {int(v) for v in value}
