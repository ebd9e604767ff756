"""Request keys: the identity of a model call for the cache and the resume journal.

The key covers the model identity, the call kind, the *entire* request body (so temperature,
seed, n, logprobs, tools, stop ... all count) and the sample index (so repeats at
temperature > 0 are distinct calls). It never covers the base URL or the API key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_key(model_id: str, kind: str, body: dict[str, Any], sample_index: int = 0) -> str:
    material = canonical_json({"m": model_id, "k": kind, "b": body, "s": sample_index})
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
