"""The run folder's image store: each image as sent, once, named by its hash; references in requests.

A request body names an image by its reference, ``images/<sha256>.<ext>`` (relative to the run
folder), in an ordinary ``image_url`` part. The cache key, the resume journal and samples.jsonl
therefore hold the hash, not the base64, and re-scoring or re-reporting never re-encodes an
image. ``inline`` swaps references for ``data:`` URIs on a copy of the body just before it is
sent; the copy is dropped when the call returns, so memory holds only the images in flight.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import threading
from pathlib import Path
from typing import Any

from medevals.errors import RunError
from medevals.images.encode import MIME, Encoded
from medevals.schema import ModelRequest

IMAGES_DIR = "images"
REF = re.compile(r"^images/([0-9a-f]{64})\.(png|jpg)$")

_tmp_counter = itertools.count()


def ref_of(enc: Encoded) -> str:
    return f"{IMAGES_DIR}/{enc.sha256}.{enc.ext}"


def is_ref(url: Any) -> bool:
    return isinstance(url, str) and REF.match(url) is not None


def sha_of(ref: str) -> str:
    m = REF.match(ref)
    if not m:
        raise ValueError(f"not an image reference: {ref[:100]!r}")
    return m.group(1)


class ImageStore:
    """``<run folder>/images/``: write-once files named by content hash (safe from worker threads)."""

    def __init__(self, run_folder: Path | str):
        self.root = Path(run_folder)
        self.dir = self.root / IMAGES_DIR
        self._made = False
        self._lock = threading.Lock()

    def put(self, enc: Encoded) -> str:
        """Store the image unless it is already there; return its reference."""
        ref = ref_of(enc)
        path = self.root / ref
        if path.exists():
            return ref
        with self._lock:
            if not self._made:
                self.dir.mkdir(parents=True, exist_ok=True)
                self._made = True
        tmp = self.dir / f".{enc.sha256}.{os.getpid()}.{threading.get_ident()}.{next(_tmp_counter)}.tmp"
        tmp.write_bytes(enc.data)
        os.replace(tmp, path)
        return ref

    def path(self, ref: str) -> Path:
        if not is_ref(ref):
            raise RunError(f"'{ref[:100]}' is not an image reference (images/<sha256>.png|jpg)")
        return self.root / ref

    def data_uri(self, ref: str) -> str:
        path = self.path(ref)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RunError(f"{path}: image referenced by a request is missing from the run folder") from None
        mime = MIME[ref.rsplit(".", 1)[1]]
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    def inline_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with every image reference replaced by its data URI (the same object when none)."""
        messages = body.get("messages")
        if not isinstance(messages, list):
            return body
        new_messages: list[Any] | None = None
        for i, m in enumerate(messages):
            content = m.get("content") if isinstance(m, dict) else None
            if not isinstance(content, list):
                continue
            new_content: list[Any] | None = None
            for j, part in enumerate(content):
                if not (isinstance(part, dict) and part.get("type") == "image_url"):
                    continue
                spec = part.get("image_url")
                url = spec.get("url") if isinstance(spec, dict) else None
                if not is_ref(url):
                    continue
                if new_content is None:
                    new_content = list(content)
                new_content[j] = {**part, "image_url": {**spec, "url": self.data_uri(url)}}
            if new_content is not None:
                if new_messages is None:
                    new_messages = list(messages)
                new_messages[i] = {**m, "content": new_content}
        if new_messages is None:
            return body
        return {**body, "messages": new_messages}

    def inline(self, request: ModelRequest) -> ModelRequest:
        body = self.inline_body(request.body)
        if body is request.body:
            return request
        return ModelRequest.model_construct(kind=request.kind, body=body)


def refs_in(body: dict[str, Any]) -> list[str]:
    """Image references of a stored request, in the order the model saw them."""
    out: list[str] = []
    for m in body.get("messages") or []:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    url = (part.get("image_url") or {}).get("url")
                    if is_ref(url):
                        out.append(url)
    return out
