"""hf: a vision-language model (image-text-to-text) loaded with its processor: a tiny random LLaVA
built here offline (word-level tokenizer, CLIP image processor, 1-layer CLIP + Llama); images reach
the model (its logits change with the image), and a text-only hf model is refused before a request."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

from medevals.models.hf import HFBackend, local_vision_config
from medevals.schema import ModelRecord

TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {% for p in m['content'] %}"
    "{% if p['type'] == 'image' %}<image>{% else %}{{ p['text'] }}{% endif %}{% endfor %}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    pytest.importorskip("PIL")
    words = [
        "<pad>",
        "<s>",
        "</s>",
        "<unk>",
        "<image>",
        " ",
        *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;?()'\"-\n",
    ]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    tk = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = tokenizers.pre_tokenizers.Split(pattern="", behavior="isolated")
    tk.decoder = tokenizers.decoders.Fuse()
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    image_processor = transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    processor = transformers.LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=16,
        vision_feature_select_strategy="default",
        chat_template=TEMPLATE,
        image_token="<image>",
        num_additional_image_tokens=1,
    )
    config = transformers.LlavaConfig(
        vision_config=transformers.CLIPVisionConfig(
            hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=16
        ),
        text_config=transformers.LlamaConfig(
            vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=2, max_position_embeddings=512, bos_token_id=1, eos_token_id=2, pad_token_id=0,
        ),
        image_token_index=vocab["<image>"],
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlavaForConditionalGeneration(config)
    path = tmp_path_factory.mktemp("tiny-llava")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def _png_uri(color: tuple[int, int, int]) -> str:
    from PIL import Image

    img = Image.new("RGB", (40, 30), color)
    for x in range(0, 40, 3):
        img.putpixel((x, x % 30), (255 - color[0], 0, color[2]))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _body(uri: str | None) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": "Which view? A: PA B: AP"}]
    if uri:
        content.insert(0, {"type": "image_url", "image_url": {"url": uri}})
    return {
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 3,
        "logprobs": True,
        "top_logprobs": 5,
    }


def test_vision_model_reads_images(tiny_vlm: Path) -> None:
    record = ModelRecord(spec=f"hf:{tiny_vlm}", backend="hf", name=str(tiny_vlm), settings={"device": "cpu"})
    backend = HFBackend(record)
    assert backend.accepts_images is True and backend.base_model is False  # known from the folder
    red, blue = _png_uri((200, 10, 10)), _png_uri((10, 10, 200))

    async def go() -> list[dict[str, Any]]:
        await backend.start()
        return [await backend.send("chat", _body(u), 60) for u in (red, red, blue, None)]

    r1, r2, b, text_only = asyncio.run(go())
    assert backend.accepts_images is True
    first = lambda raw: raw["choices"][0]["logprobs"]["content"][0]["top_logprobs"]  # noqa: E731
    assert first(r1) == first(r2)  # the same image: the same distribution
    assert first(r1) != first(b)  # another image: another distribution, so pixels reach the model
    # the prompt counts the expanded image tokens: (32/16)^2 patches
    assert r1["usage"]["prompt_tokens"] == text_only["usage"]["prompt_tokens"] + 4
    assert isinstance(r1["choices"][0]["message"]["content"], str)


def test_text_model_folder_is_known_not_to_take_images(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    assert local_vision_config(str(tmp_path)) is False
    assert HFBackend(ModelRecord(spec="hf:x", backend="hf", name=str(tmp_path))).accepts_images is False
    assert local_vision_config("org/some-hub-model") is None


def test_image_run_end_to_end_and_text_model_refused(tiny_vlm: Path, tmp_path: Path, capsys) -> None:
    from clihelp import run_cli
    from imgfixtures import image_spec, png_bytes, write

    data = tmp_path / "data"
    write(data / "a.png", png_bytes(1))
    write(data / "b.png", png_bytes(2))
    spec = image_spec(
        data,
        [
            {"id": "x", "question": "Which view?", "options": ["PA", "AP"], "answer": "A", "image": "a.png"},
            {"id": "y", "question": "Which view?", "options": ["PA", "AP"], "answer": "B", "image": "b.png"},
        ],
    )
    runs = tmp_path / "runs"
    code, out, err = run_cli(
        ["run", "-m", f"hf:{tiny_vlm}", "-b", str(spec), "--set", "max_tokens=3", "--runs-dir", str(runs),
         "--no-cache", "--no-report"],
        capsys,
    )  # fmt: skip
    assert code == 0, err + out
    (folder,) = [p for p in runs.iterdir() if p.is_dir()]
    lines = (folder / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 2 and len(list((folder / "images").iterdir())) == 2

    text_model = tmp_path / "text-model"
    text_model.mkdir()
    (text_model / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    code, out, err = run_cli(
        ["run", "-m", f"hf:{text_model}", "-b", str(spec), "--runs-dir", str(tmp_path / "r2"), "--no-cache"],
        capsys,
    )
    assert code == 2 and "takes text only" in err + out
