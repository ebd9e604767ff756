"""The in-process backends: hf (transformers) on a tiny random GPT-2 built offline, vLLM's batching
on a stand-in ``vllm`` module (the real one needs a GPU), and both backends' install hints."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from medevals.errors import ModelError
from medevals.models import openai_format
from medevals.models.base import PermanentModelError, TransientModelError
from medevals.models.hf import HFBackend, content_text
from medevals.schema import ModelRecord

CORPUS = [
    "the patient has a fever and a cough",
    "user: what is the dose?\nassistant: take one tablet daily.",
    "system: you are a careful doctor.",
    "Answer: A B C D E",
    "blood pressure is high; give water.",
]
SIMPLE_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def _record(name: str, backend: str = "hf", **settings: Any) -> ModelRecord:
    return ModelRecord(spec=f"{backend}:{name}", backend=backend, name=name, settings=settings)


# ---------------------------------------------------------------- no torch needed


def test_importing_backends_does_not_import_torch() -> None:
    code = (
        "import sys, medevals.models.hf, medevals.models.vllm_offline\n"
        "bad = [m for m in ('torch', 'transformers', 'vllm') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hf_start_without_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    backend = HFBackend(_record("/nowhere"))
    with pytest.raises(ModelError, match=r"pip install -e '\.\[hf\]'"):
        asyncio.run(backend.start())


def test_vllm_start_without_vllm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from medevals.models.vllm_offline import VLLMBackend

    monkeypatch.setitem(sys.modules, "vllm", None)
    backend = VLLMBackend(_record("/nowhere", "vllm"))
    with pytest.raises(ModelError, match=r"pip install -e '\.\[vllm\]'") as err:
        asyncio.run(backend.start())
    assert "GPU" in str(err.value) and "--base-url" in str(err.value)


def test_hf_refuses_embeddings_before_loading() -> None:
    backend = HFBackend(_record("/nowhere"))
    with pytest.raises(PermanentModelError, match="does not serve embeddings"):
        asyncio.run(backend.send("embedding", {"input": ["x"]}, 10))


def test_content_parts_are_joined_and_images_refused() -> None:
    assert content_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,xx"}}
    with pytest.raises(PermanentModelError, match="multimodal server"):
        content_text([{"type": "text", "text": "look"}, image])


def test_base_model_is_read_from_a_local_folder_before_loading(tmp_path: Path) -> None:
    from medevals.models.vllm_offline import VLLMBackend

    chat, base, jinja = tmp_path / "chat", tmp_path / "base", tmp_path / "jinja"
    for folder in (chat, base, jinja):
        folder.mkdir()
    (chat / "tokenizer_config.json").write_text(json.dumps({"chat_template": SIMPLE_TEMPLATE}))
    (base / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<eos>"}))
    (jinja / "chat_template.jinja").write_text(SIMPLE_TEMPLATE)
    for cls, backend_name in ((HFBackend, "hf"), (VLLMBackend, "vllm")):
        assert cls(_record(str(chat), backend_name)).base_model is False
        assert cls(_record(str(jinja), backend_name)).base_model is False
        assert cls(_record(str(base), backend_name)).base_model is True
        assert cls(_record("org/hub-model", backend_name)).base_model is False  # unknown until start()


# ---------------------------------------------------------------- tiny transformers model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer random GPT-2 with a byte-level BPE tokenizer trained here (no hub access)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    tk = tokenizers.Tokenizer(tokenizers.models.BPE())
    tk.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=120, special_tokens=["<eos>", "<pad>"], show_progress=False
    )
    tk.train_from_iterator(CORPUS * 3, trainer)
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", pad_token="<pad>")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=1,
        n_head=2,
        n_embd=32,
        n_positions=128,
        vocab_size=len(tok),
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = transformers.GPT2LMHeadModel(config)
    path = tmp_path_factory.mktemp("tiny-gpt2")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _run(backend: HFBackend, *calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Start the backend and send the calls in one event loop (the backend's lock lives in it)."""

    async def go() -> list[dict[str, Any]]:
        await backend.start()
        return [await backend.send(kind, body, 60) for kind, body in calls]  # type: ignore[arg-type]

    return asyncio.run(go())


def test_completion_text_usage_and_logprobs(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    assert backend.base_model is True  # known from the folder, before loading: protocols ask early
    (raw,) = _run(backend, ("completion", {"prompt": "the patient has", "max_tokens": 6, "logprobs": 3}))
    assert backend.base_model is True  # no chat template
    assert raw["object"] == "text_completion" and raw["model"] == str(tiny_model)
    openai_format.validate(raw, "completion")
    choice = raw["choices"][0]
    assert isinstance(choice["text"], str)
    assert choice["finish_reason"] in ("stop", "length")
    usage = openai_format.usage(raw)
    assert usage.prompt_tokens == len(backend.tokenizer("the patient has")["input_ids"])
    assert 1 <= usage.completion_tokens <= 6
    positions = choice["logprobs"]["content"]
    assert positions, "logprobs requested but none returned"
    for pos in positions:
        assert len(pos["top_logprobs"]) == 3
        assert pos["logprob"] <= 0.0
        # greedy picks the most likely token of the raw distribution
        assert pos["logprob"] == pytest.approx(pos["top_logprobs"][0]["logprob"])
    if choice["finish_reason"] == "length":
        assert "".join(p["token"] for p in positions) == choice["text"]
    alts = openai_format.top_logprobs(raw)
    assert len(alts) == len(positions) and all(len(a) >= 3 for a in alts)


def test_chat_without_template_uses_plain_transcript(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    body = {
        "messages": [
            {"role": "system", "content": "you are a careful doctor."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "what is "}, {"type": "text", "text": "the dose?"}],
            },
        ],
        "max_tokens": 4,
        "logprobs": True,
        "top_logprobs": 2,
    }
    (raw,) = _run(backend, ("chat", body))
    assert raw["object"] == "chat.completion"
    msg = raw["choices"][0]["message"]
    assert msg["role"] == "assistant" and isinstance(msg["content"], str)
    transcript = "system: you are a careful doctor.\nuser: what is the dose?\nassistant:"
    assert raw["usage"]["prompt_tokens"] == len(backend.tokenizer(transcript)["input_ids"])
    assert all(len(p["top_logprobs"]) == 2 for p in raw["choices"][0]["logprobs"]["content"])


def test_chat_template_is_applied_when_present(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))

    async def go() -> dict[str, Any]:
        await backend.start()
        backend.tokenizer.chat_template = SIMPLE_TEMPLATE
        return await backend.send(
            "chat", {"messages": [{"role": "user", "content": "the dose?"}], "max_tokens": 2}, 60
        )

    raw = asyncio.run(go())
    expected = backend.tokenizer("<user>the dose?\n<assistant>", add_special_tokens=False)["input_ids"]
    assert raw["usage"]["prompt_tokens"] == len(expected)


def test_n_choices_greedy_and_sampled(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    greedy, sampled = _run(
        backend,
        ("completion", {"prompt": "blood pressure", "max_tokens": 5, "n": 2}),
        ("completion", {"prompt": "blood pressure", "max_tokens": 5, "n": 2, "temperature": 1.0, "seed": 3}),
    )
    for raw in (greedy, sampled):
        assert [c["index"] for c in raw["choices"]] == [0, 1]
        assert all(isinstance(t, str) for t in openai_format.texts(raw))
    assert greedy["choices"][0]["text"] == greedy["choices"][1]["text"]


def test_greedy_and_seeded_sampling_are_deterministic(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    greedy = {"prompt": "the patient", "max_tokens": 8}
    sampled = {"prompt": "the patient", "max_tokens": 8, "temperature": 1.0, "top_p": 0.9, "seed": 7}
    g1, g2, s1, s2 = _run(
        backend,
        ("completion", greedy),
        ("completion", greedy),
        ("completion", sampled),
        ("completion", sampled),
    )
    assert openai_format.text(g1) == openai_format.text(g2)
    assert openai_format.text(s1) == openai_format.text(s2)


def test_stop_strings_cut_the_text(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    # Seeded sampling: the random model's greedy output is one token repeated, too dull to cut.
    body = {"prompt": "Answer:", "max_tokens": 20, "logprobs": 1, "temperature": 1.0, "seed": 0}
    (full,) = _run(backend, ("completion", body))
    text = openai_format.text(full)
    stop = text[8:10]
    cut_at = text.find(stop)
    assert cut_at > 0, f"tiny model's text does not allow a non-trivial stop test: {text!r}"
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    as_list, as_str = _run(
        backend, ("completion", {**body, "stop": ["zzzz", stop]}), ("completion", {**body, "stop": stop})
    )
    for raw in (as_list, as_str):
        assert openai_format.text(raw) == text[:cut_at]
        assert openai_format.finish_reason(raw) == "stop"
        assert raw["usage"]["completion_tokens"] <= full["usage"]["completion_tokens"]
        tokens = "".join(p["token"] for p in raw["choices"][0]["logprobs"]["content"])
        assert tokens.startswith(text[:cut_at])


def test_image_parts_and_bad_requests_are_permanent_errors(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,xx"}}

    async def go() -> None:
        await backend.start()
        with pytest.raises(PermanentModelError, match="multimodal"):
            await backend.send("chat", {"messages": [{"role": "user", "content": [image]}]}, 60)
        with pytest.raises(PermanentModelError, match="max_tokens"):
            await backend.send("completion", {"prompt": "x", "max_tokens": 0}, 60)
        with pytest.raises(PermanentModelError, match="context"):
            await backend.send("completion", {"prompt": "the patient " * 100}, 60)

    asyncio.run(go())


def test_load_problems_are_model_errors(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot load model"):
        asyncio.run(HFBackend(_record(str(tmp_path / "missing"), device="cpu")).start())
    with pytest.raises(ModelError, match="unknown dtype"):
        asyncio.run(HFBackend(_record(str(tiny_model), device="cpu", dtype="int3")).start())


def test_timeout_is_transient(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))

    async def go() -> None:
        await backend.start()
        with pytest.raises(TransientModelError, match="timeout"):
            await backend.send("completion", {"prompt": "the", "max_tokens": 50}, 1e-9)

    asyncio.run(go())


def test_concurrent_sends_are_serialised(tiny_model: Path) -> None:
    backend = HFBackend(_record(str(tiny_model), device="cpu"))
    assert backend.max_concurrency == 1

    async def go() -> list[dict[str, Any]]:
        await backend.start()
        body = {"prompt": "the patient", "max_tokens": 4}
        return await asyncio.gather(*(backend.send("completion", body, 60) for _ in range(4)))

    results = asyncio.run(go())
    assert len({openai_format.text(r) for r in results}) == 1
    asyncio.run(backend.close())
    assert backend.model is None


# ---------------------------------------------------------------- vLLM batching (stand-in module)


class _FakeLLM:
    """Mimics vllm.LLM's offline API: per-prompt SamplingParams, RequestOutput-shaped results."""

    calls: list[tuple[str, int]]

    def __init__(self, model: str, **kwargs: Any):
        self.model, self.kwargs = model, kwargs
        self.calls = []
        self.chat_params: list[list[Any]] = []

    def get_tokenizer(self) -> Any:
        return types.SimpleNamespace(chat_template="{{ x }}", decode=lambda ids: f"<{ids[0]}>")

    def _out(self, prompt: str, params: Any) -> Any:
        if "BOOM" in prompt:
            raise ValueError("prompt too long")
        k = params.kwargs.get("logprobs")
        outs = []
        for i in range(params.kwargs.get("n", 1)):
            ids = [1, 2]
            lps = None
            if k is not None:
                lp = types.SimpleNamespace
                lps = [
                    {
                        1: lp(logprob=-0.1, rank=1, decoded_token=" A"),
                        5: lp(logprob=-2.5, rank=2, decoded_token=" B"),
                    },
                    {
                        9: lp(logprob=-0.2, rank=1, decoded_token="!"),
                        2: lp(logprob=-1.7, rank=2, decoded_token=None),
                    },
                ]
            outs.append(
                types.SimpleNamespace(
                    index=i, text=f"echo:{prompt}", token_ids=ids, logprobs=lps, finish_reason="length"
                )
            )
        return types.SimpleNamespace(prompt_token_ids=[0] * len(prompt.split()), outputs=outs)

    def generate(self, prompts: list[str], params: list[Any], use_tqdm: bool = True) -> list[Any]:
        self.calls.append(("generate", len(prompts)))
        return [self._out(p, sp) for p, sp in zip(prompts, params, strict=True)]

    def chat(
        self, conversations: list[list[dict[str, Any]]], params: list[Any], use_tqdm: bool = True, **kw: Any
    ) -> list[Any]:
        self.calls.append(("chat", len(conversations)))
        self.chat_params.append(params)
        return [self._out(c[-1]["content"], sp) for c, sp in zip(conversations, params, strict=True)]


class _FakeSamplingParams:
    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    mod = types.ModuleType("vllm")
    mod.LLM = _FakeLLM  # type: ignore[attr-defined]
    mod.SamplingParams = _FakeSamplingParams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", mod)
    return mod


def test_vllm_batches_concurrent_requests(fake_vllm: types.ModuleType) -> None:
    from medevals.models.vllm_offline import VLLMBackend

    backend = VLLMBackend(_record("some/model", "vllm", batch_window_ms=50, tensor_parallel_size=2))
    seen: dict[str, Any] = {}

    async def go() -> list[Any]:
        await backend.start()
        seen["llm"] = backend.llm
        try:
            comps = [
                backend.send("completion", {"prompt": f"q {i}", "max_tokens": 3, "logprobs": 1}, 60)
                for i in range(5)
            ]
            chats = [
                backend.send("chat", {"messages": [{"role": "user", "content": "hi"}], "n": 2}, 60),
                backend.send(
                    "chat", {"messages": [{"role": "user", "content": "hi"}], "n": 2, "temperature": 1}, 60
                ),
                backend.send("chat", {"messages": [{"role": "user", "content": "BOOM"}]}, 60),
            ]
            return await asyncio.gather(*comps, *chats, return_exceptions=True)
        finally:
            await backend.close()

    results = asyncio.run(go())
    llm = seen["llm"]
    assert llm.kwargs == {"tensor_parallel_size": 2}
    assert llm.calls[0] == ("generate", 5)  # one call for all completions
    assert backend.batch_sizes == [8]
    assert backend.base_model is False
    first = results[0]
    assert isinstance(first, dict)
    assert openai_format.text(first) == "echo:q 0"
    assert first["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    assert openai_format.top_logprobs(first) == [{" A": -0.1}, {"!": -0.2, "<2>": -1.7}]
    assert first["choices"][0]["logprobs"]["content"][1]["token"] == "<2>"
    chat_ok, chat_sampled, chat_bad = results[5], results[6], results[7]
    for raw in (chat_ok, chat_sampled):  # greedy n=2 asks vLLM once and repeats; sampled asks n=2
        assert isinstance(raw, dict) and openai_format.texts(raw) == ["echo:hi", "echo:hi"]
        assert [c["index"] for c in raw["choices"]] == [0, 1]
        assert raw["choices"][0]["logprobs"] is None
    assert [sp.kwargs["n"] for sp in llm.chat_params[0]] == [1, 2, 1]
    assert isinstance(chat_bad, PermanentModelError) and "prompt too long" in str(chat_bad)
