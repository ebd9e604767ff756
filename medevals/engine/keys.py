"""Request keys: the identity of a model call for the resume journal and the response cache.

``request_key`` covers the model identity (backend + name, + weights version for the builtin
model), the call kind, the *entire* request body (so temperature, seed, n, logprobs, tools,
stop ... all count) and the sample index (so repeats at temperature > 0 are distinct calls).
It is the key of a call inside a run: the resume journal replays by it, and it is stored in
each call record. It leaves out the server on purpose: which run folder a command resumes is
decided by the run's configuration hash, which leaves out the base URL too (a local server that
restarted on another port still resumes its run and replays that run's own journal).

``cache_key`` is the key of the shared response cache: the request key plus the server that
answered (``ModelBackend.server_id``). The same model name on two servers is two models (another
quantisation, another build, another checkpoint behind the same name): without the server in the
key, a second server was "scored" from the first one's cached answers with no request sent. The
server is the base URL normalised by ``normalize_base_url``: scheme and host lower-cased,
userinfo (credentials) dropped, a default port (80 for http, 443 for https) dropped, trailing
slashes stripped; the path and query are kept as given. So ``http://USER:KEY@Host:80/v1/`` and
``http://host/v1`` share entries, while ``localhost`` and ``127.0.0.1`` (not resolved) or two
ports do not. Backends without a server (builtin, hf, vllm in-process) have no server part:
their identity is the model id (the builtin model's includes its weights package version).
Neither key ever covers the API key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_key(
    model_id: str, kind: str, body: dict[str, Any], sample_index: int = 0, *, unit: str | None = None
) -> str:
    """``unit`` is set only for backends whose answer depends on the unit, not the request
    (``replay:``): two items with the same prompt are then two calls. Unset, keys are unchanged."""
    fields: dict[str, Any] = {"m": model_id, "k": kind, "b": body, "s": sample_index}
    if unit is not None:
        fields["u"] = unit
    material = canonical_json(fields)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def cache_key(key: str, server: str | None) -> str:
    """The response-cache key of request ``key`` answered by ``server`` (None: no server part)."""
    if not server:
        return key
    return hashlib.sha256(f"{key}\n{server}".encode()).hexdigest()


def normalize_base_url(url: str) -> str:
    """The server identity of a base URL (see the module docstring); never holds credentials."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""  # lower-cased, without userinfo
    netloc = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:  # not a number: kept verbatim (the backend reports the bad URL itself)
        port, netloc = None, parts.netloc.rsplit("@", 1)[-1].lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))
