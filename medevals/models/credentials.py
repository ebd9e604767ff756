"""Keeping credentials out of everything medevals writes: run folders, the cache, logs, the console.

Three ways a key could leak, each closed here:

- **In the base URL** (``--base-url http://user:password@host/v1``, a role's ``SPEC@URL`` or
  ``OPENAI_BASE_URL``): ``split_credentials`` takes the userinfo off the URL before the URL is
  recorded anywhere; the backend sends it as HTTP Basic authentication (``user:password``,
  percent-decoded, what curl and browsers do with such a URL, e.g. for an nginx ``auth_basic``
  proxy in front of a model server). The API-key variable is then not sent (a request carries one
  Authorization header); naming one explicitly as well is an error. The recorded command line
  (``manifest.json -> command``) has every URL's userinfo removed by ``redact_argv``.
- **A key given where a variable name belongs** (``--api-key-env sk-...``): ``check_env_name``
  refuses anything that is not a variable name or that looks like a key, without repeating it.
- **A key echoed back by a server**: the backend replaces every credential it sends (the key, the
  URL's user and password, the Basic token) with ``[redacted]`` in error bodies and in 2xx replies
  (content, error fields, anything) before the reply reaches the journal, the cache or a sample.
  Credentials shorter than ``MIN_SECRET_LEN`` characters are not searched for: they would mangle
  ordinary text, and are too short to be worth stealing from a log.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "[redacted]"
MIN_SECRET_LEN = 8
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEY_PREFIXES = (
    "sk-",
    "sk_",
    "pk-",
    "rk-",
    "AIza",
    "ghp_",
    "gho_",
    "github_pat_",
    "hf_",
    "gsk_",
    "xai-",
    "glpat-",
)
_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]*@")


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its userinfo, and the (user, password) it held (percent-decoded), if any."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def redact_argv(argv: list[str]) -> list[str]:
    """The command line as recorded: every ``scheme://userinfo@`` loses its userinfo."""
    return [_URL_USERINFO.sub(r"\1", a) if "@" in a else a for a in argv]


def looks_like_secret(value: str) -> bool:
    """A heuristic for 'this is a key, not a variable name': a known key prefix, or long and mixed.

    Variable names are short words in one case (OPENAI_API_KEY, my_key); keys are long runs of
    mixed-case letters and digits (or hex).
    """
    v = value.strip()
    if v.startswith(_KEY_PREFIXES):
        return True
    if not _ENV_NAME.match(v):
        return len(v) >= 16
    mixed = any(c.isdigit() for c in v) and any(c.islower() for c in v) and any(c.isupper() for c in v)
    hexlike = len(v) >= 32 and all(c in "0123456789abcdefABCDEF" for c in v)
    return (len(v) >= 24 and mixed and v.count("_") <= 1) or hexlike


def check_env_name(name: str, option: str = "--api-key-env") -> None:
    """Refuse a value that is not an environment variable name, never echoing one that looks like a key."""
    from medevals.errors import ConfigError

    if looks_like_secret(name):
        raise ConfigError(
            f"{option} takes the NAME of an environment variable that holds the key (e.g. OPENAI_API_KEY); "
            f"the value given looks like a key itself, so it is not shown here. Put the key in a variable "
            f"(export MY_KEY=...) and pass {option} MY_KEY"
        )
    if not _ENV_NAME.match(name):
        raise ConfigError(
            f"{option} '{name}' is not an environment variable name (letters, digits and '_', "
            f"not starting with a digit); it names the variable that holds the key, e.g. OPENAI_API_KEY"
        )


class Redactor:
    """Replaces the credentials a backend sends wherever a server might echo them back."""

    def __init__(self, secrets: list[str | None]):
        found = {s for s in secrets if s and len(s) >= MIN_SECRET_LEN}
        # longest first, so a key is replaced whole before any credential it contains
        self.secrets = sorted(found, key=len, reverse=True)
        needles = set()
        for s in self.secrets:
            needles.add(s.encode())
            needles.add(s.replace("/", "\\/").encode())  # JSON encoders that escape '/'
        self._needles = tuple(needles)

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def in_bytes(self, body: bytes) -> bool:
        """Cheap test on a raw reply body (no parse, no copy)."""
        return any(n in body for n in self._needles)

    def text(self, text: str) -> str:
        for s in self.secrets:
            if s in text:
                text = text.replace(s, REDACTED)
        return text

    def tree(self, obj: Any) -> Any:
        """A parsed JSON value with every string (keys included) redacted."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.text(k): self.tree(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.tree(v) for v in obj]
        return obj
