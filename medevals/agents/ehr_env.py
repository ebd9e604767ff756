"""Where the EHR agent's requests go: the in-process sandbox or a user's FHIR server.

The agent sees a fixed ``api_base`` (so prompts, and therefore the response cache, do not
depend on a random port); requests under it are routed to the sandbox through an in-process
ASGI transport, or to the user's server. Sandbox writes carry the episode's session header,
so each episode reads the shared record plus only its own writes (the header carries a hash of
the unit id: a FHIR id). Against a user's server POSTs are by default recorded but not sent
(MedAgentBench's own behaviour), so a run never changes the user's record;
``post_mode=execute`` sends them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from medevals.fhir.server import SESSION_HEADER, validate_resource


@dataclass
class Response:
    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def diagnostics(self) -> str:
        """The OperationOutcome's messages, or the body's start."""
        try:
            body = json.loads(self.text)
        except ValueError:
            return self.text[:300]
        if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
            return "; ".join(str(i.get("diagnostics", i.get("code", ""))) for i in body.get("issue") or [])
        return self.text[:300]


def session_token(unit_id: str) -> str:
    """The sandbox session for an episode: a valid FHIR id (unit ids hold ``/``), stable per unit."""
    return hashlib.sha256(unit_id.encode()).hexdigest()[:32]


class FHIREnv:
    """An HTTP client bound to one FHIR server, with the agent-visible base mapped onto it."""

    def __init__(self, client: Any, api_base: str, *, external: bool, execute_posts: bool):
        self.client = client
        self.api_base = api_base.rstrip("/") + "/"
        self.external = external
        self.execute_posts = execute_posts

    @classmethod
    def sandbox(cls, app: Any, api_base: str, *, execute_posts: bool = True) -> FHIREnv:
        import httpx

        # no socket: every URL, whatever its host, goes to the app, which then writes its
        # paging links under the agent-visible base
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        return cls(client, api_base, external=False, execute_posts=execute_posts)

    @classmethod
    def remote(cls, base_url: str, *, execute_posts: bool, timeout: float = 60.0) -> FHIREnv:
        import httpx

        client = httpx.AsyncClient(timeout=timeout)
        return cls(client, base_url, external=True, execute_posts=execute_posts)

    def route(self, url: str) -> str | None:
        """The request target for an agent URL, or None when it is outside the api_base."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            url = urljoin(self.api_base, url.lstrip("/"))
        if not url.startswith(self.api_base) and url.rstrip("/") + "/" != self.api_base:
            return None
        return url

    async def get(self, url: str, session: str, *, upstream: bool = False) -> Response:
        """A GET under the base; ``upstream``: the URL gets ``&_format=json`` appended verbatim, as
        MedAgentBench's loop does, otherwise ``_format=json`` is added only for an external server."""
        target = self.route(url)
        if target is None:
            return Response(400, f"URL is outside the FHIR base {self.api_base}")
        if upstream:
            target += "&_format=json"
        elif self.external and "_format=" not in target:
            target += ("&" if "?" in target else "?") + "_format=json"
        try:
            r = await self.client.get(target, headers={SESSION_HEADER: session})
        except Exception as e:  # connection refused, DNS, timeout: the agent sees it as a failed request
            return Response(599, f"{type(e).__name__}: {e}")
        return Response(r.status_code, r.text)

    async def post(self, url: str, payload: dict[str, Any], session: str) -> Response:
        target = self.route(url)
        if target is None:
            return Response(400, f"URL is outside the FHIR base {self.api_base}")
        rtype = urlsplit(target).path.rstrip("/").rsplit("/", 1)[-1]
        if not self.execute_posts:
            resource, problem, _ = validate_resource(rtype, payload)
            if problem is not None:
                return Response(
                    422,
                    json.dumps(
                        {
                            "resourceType": "OperationOutcome",
                            "issue": [{"severity": "error", "code": "invariant", "diagnostics": problem}],
                        }
                    ),
                )
            return Response(201, json.dumps(resource))
        try:
            r = await self.client.post(
                target,
                content=json.dumps(payload),
                headers={SESSION_HEADER: session, "Content-Type": "application/fhir+json"},
            )
        except Exception as e:
            return Response(599, f"{type(e).__name__}: {e}")
        return Response(r.status_code, r.text)

    async def read_bundle(self, url: str) -> list[dict[str, Any]]:
        """The resources of one search page (what the upstream grader reads for its truth).

        A server that fails to answer raises: the unit is an error, retried on the next run,
        never a silent failure of the agent (upstream's grader would count it as one).
        """
        r = await self.client.get(url, headers={"Accept": "application/fhir+json"})
        if r.status_code != 200:
            raise RuntimeError(f"ground-truth search {url} failed: HTTP {r.status_code}")
        bundle = r.json()
        if not isinstance(bundle, dict):
            raise RuntimeError(f"ground-truth search {url} did not return a Bundle")
        return [e.get("resource", {}) if isinstance(e, dict) else {} for e in bundle.get("entry") or []]
