"""Tiny generated images and image benchmarks for tests (no real data, nothing downloaded)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image


def png_bytes(seed: int, size: tuple[int, int] = (24, 16), mode: str = "RGB") -> bytes:
    """A small PNG whose pixels depend on ``seed`` (distinct seeds give distinct bytes)."""
    w, h = size
    img = Image.new("RGB", size)
    img.putdata(
        [
            ((seed * 37 + x * 11) % 256, (seed * 91 + y * 7) % 256, (x * y + seed) % 256)
            for y in range(h)
            for x in range(w)
        ]
    )
    if mode != "RGB":
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(seed: int, size: tuple[int, int] = (32, 24), mode: str = "RGB") -> bytes:
    img = Image.open(io.BytesIO(png_bytes(seed, size))).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_spec(folder: Path, rows: list[dict[str, Any]], *, name: str = "img-set", extra: str = "") -> Path:
    """A custom-spec image MCQ set: rows with id, question, options (list), answer (letter), image(s)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = folder / "spec.yaml"
    spec.write_text(
        f"name: {name}\ndata: items.jsonl\nfields:\n  id: id\n  question: question\n  options: options\n"
        f"  answer: answer\n  images: image\n{extra}",
        encoding="utf-8",
    )
    return spec
