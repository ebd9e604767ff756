"""EHR agent: a GET/POST/FINISH tool loop against a FHIR server, graded on answer AND writes.

``setup`` builds the synthetic world the items were instantiated over and serves it
in-process (FastAPI app behind an ASGI transport: no port, nothing to tear down), or binds to
``--fhir-base-url``. ``solve`` runs the loop for at most ``max_turns`` model calls: in text
mode (default, MedAgentBench's format; many servers lack tool calling) each reply is parsed
as one GET/POST/FINISH; in tools mode the model gets ``fhir_get``/``fhir_post``/``finish``
tools, read through ``openai_format.tool_calls`` (a text reply there is parsed as text
protocol).

Two rule sets (``rules``; ``fhir.grading`` and the README table): ``upstream`` (the default for
the original tasks) runs MedAgentBench's own loop (a reply that is not an action ends the
episode; a JSON POST body is accepted unvalidated and not sent) and ``score`` replays the
stored raw replies through its grader; ``sandbox`` (the default for synthetic tasks) reads
replies leniently, answers malformed actions with an error message, lets the sandbox accept or
reject each POST, and grades the recorded answer and accepted writes.

``--tools calculators`` (tools mode) also offers the clinical calculator library as function
tools; calls run locally, are recorded under ``calculator_calls`` and never touch the record.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator

from medevals.agents.ehr_actions import (
    GET_REPLY,
    MALFORMED_REPLY,
    POST_OK,
    PROMPT,
    TOOLS,
    TOOLS_PROMPT,
    UPSTREAM_INVALID_POST,
    Action,
    parse_text,
    parse_tool_call,
    render_functions,
)
from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.schema import CallRecord, Item, Message, ModelRequest, Sample, Score

SANDBOX_BASE = "http://localhost:8080/fhir/"
"""What the agent is told the sandbox lives at; routed in-process, never contacted."""


class EHRAgentOptions(ProtocolOptions):
    mode: Literal["text", "tools"] = "text"
    max_turns: int = Field(8, ge=1, le=100, description="model calls per task (MedAgentBench: 8)")
    fhir_base_url: str | None = None
    post_mode: Literal["auto", "execute", "record"] = "auto"
    rules: Literal["auto", "upstream", "sandbox"] = Field(
        "auto",
        description="loop and grading rules: upstream = MedAgentBench's own (default for the original tasks), "
        "sandbox = the synthetic benchmark's (default for synthetic tasks); see the README table",
    )
    functions: Literal["auto", "full", "compact"] = "auto"
    max_response_chars: int | None = Field(None, ge=200)
    max_tokens: int | None = Field(None, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    page_size: int = Field(100, ge=1, le=1000, description="sandbox search page size (_count default)")
    tools: list[Literal["calculators"]] = Field(
        default_factory=list, description="extra tools in tools mode: calculators"
    )

    _split = field_validator("tools", mode="before")(comma_list)


class EHRAgentProtocol(Protocol):
    name = "ehr-agent"
    primary_metric = "success"
    Options = EHRAgentOptions
    extras = ("fhir",)  # fhir.resources validates every write; the sandbox is a FastAPI app
    options: EHRAgentOptions

    def __init__(self, options: ProtocolOptions, benchmark: Any = None):
        super().__init__(options, benchmark)
        self._envs: dict[str, Any] = {}
        if self.options.tools and self.options.mode != "tools":
            raise ConfigError("--tools calculators needs the agent's tools mode: add --set mode=tools")
        self._calc_tools = self._calculator_tools()  # built once: every request offers the same specs
        self._calc_names = frozenset(t["function"]["name"] for t in self._calc_tools)

    def single_turn_obstacle(self, variant: str) -> str | None:
        return "the EHR agent makes several model turns (FHIR requests, then FINISH)"

    def templates(self) -> dict[str, str]:
        return {
            "text_prompt": PROMPT,
            "tools_prompt": TOOLS_PROMPT,
            "get_reply": GET_REPLY,
            "post_ok": POST_OK,
            "malformed_reply": MALFORMED_REPLY,
        }

    # ------------------------------------------------------------------ environment

    async def setup(self, items: list[Item], clients: dict[str, Any]) -> None:
        from medevals.agents.ehr_env import FHIREnv
        from medevals.extras import require

        require("fhir", "the EHR-agent protocol")

        o = self.options
        if o.fhir_base_url:
            execute = o.post_mode == "execute"
            self._envs["external"] = FHIREnv.remote(o.fhir_base_url, execute_posts=execute)
            return
        worlds = {json.dumps(it.metadata.get("world"), sort_keys=True) for it in items}
        if "null" in worlds:
            raise ConfigError(
                "these EHR tasks need their original data: pass --fhir-base-url URL of a loaded MedAgentBench "
                "FHIR server (or use split 'synthetic')"
            )
        from medevals.fhir.server import create_app
        from medevals.fhir.world import GENERATOR_VERSION, build_store

        for key in worlds:
            w = json.loads(key)
            if w.get("generator", GENERATOR_VERSION) != GENERATOR_VERSION:
                raise ConfigError(
                    f"these items were made by synthetic-patient generator v{w.get('generator')}, this medevals "
                    f"has v{GENERATOR_VERSION}: their ground truth would not match the sandbox"
                )
            app = create_app(build_store(int(w["patients"]), int(w["seed"])), default_count=o.page_size)
            self._envs[key] = FHIREnv.sandbox(app, SANDBOX_BASE, execute_posts=o.post_mode != "record")

    async def _env(self, item: Item):
        if not self._envs:  # solve without a run-level setup (e.g. one item in a test)
            await self.setup([item], {})
        if "external" in self._envs:
            return self._envs["external"]
        return self._envs[json.dumps(item.metadata.get("world"), sort_keys=True)]

    # ------------------------------------------------------------------ the loop

    def _prompt(self, item: Item, env: Any, base_model: bool) -> str:
        o = self.options
        compact = o.functions == "compact" or (o.functions == "auto" and base_model)
        functions = render_functions(item.metadata.get("functions") or [], env.api_base, compact)
        tpl = TOOLS_PROMPT if o.mode == "tools" else PROMPT
        question = item.input if isinstance(item.input, str) else json.dumps(item.input)
        return tpl.format(
            api_base=env.api_base, functions=functions, context=item.context or "", question=question
        )

    def _request(self, messages: list[Message], base_model: bool) -> ModelRequest:
        o = self.options
        if base_model:
            prompt = _transcript(messages, budget=6000)
            body: dict[str, Any] = {
                "prompt": prompt,
                # one action is a line or a short JSON payload; base models otherwise write both sides
                "max_tokens": o.max_tokens or 160,
                "temperature": o.temperature,
                "stop": ["\nUSER:", "\nAGENT:", "\nQuestion:", "\n\n\n"],
            }
            return ModelRequest(kind="completion", body=body)
        # a copy: the loop keeps appending to ``messages``, and the stored request must show this call's
        body = {"messages": list(messages), "temperature": o.temperature, "max_tokens": o.max_tokens or 2048}
        if o.mode == "tools":
            body["tools"] = TOOLS + self._calc_tools
        return ModelRequest(kind="chat", body=body)

    def _calculator_tools(self) -> list[dict[str, Any]]:
        if "calculators" not in self.options.tools:
            return []
        from medevals.calculators.tools import openai_tools

        return openai_tools()

    def _clip(self, text: str, base_model: bool) -> str:
        limit = self.options.max_response_chars or (1500 if base_model else None)
        if limit and len(text) > limit:
            return text[:limit] + f"... [truncated: {len(text) - limit} more characters]"
        return text

    def _rules(self, item: Item) -> str:
        if self.options.rules != "auto":
            return self.options.rules
        return "upstream" if item.metadata.get("world") is None else "sandbox"

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        from medevals.agents.ehr_actions import parse_upstream
        from medevals.agents.ehr_env import session_token
        from medevals.fhir.tasks import TaskSpec, compute_truth, reference_urls

        env = await self._env(item)
        spec = TaskSpec.from_dict(item.metadata["spec"])
        rules = self._rules(item)
        out: dict[str, Any] = {
            "status": "step-limit",
            "rules": rules,
            "api_base": env.api_base,
            "answer": None,
            "actions": [],
            "writes": [],
            "malformed": [],
            "steps": 0,
        }
        if item.metadata.get("world") is None and item.target is None:
            # original tasks on a user's server: read the truth with the grader's own searches,
            # before the agent can change anything
            results = [await env.read_bundle(url) for url in reference_urls(spec, env.api_base)]
            out["truth"] = compute_truth(spec, results)
        base_model = ctx.is_base_model()
        tools = self.options.mode == "tools" and not base_model
        calc_names = self._calc_names
        if calc_names:
            out["calculator_calls"] = []
        session = session_token(ctx.unit_id)
        messages: list[Message] = [{"role": "user", "content": self._prompt(item, env, base_model)}]
        for step in range(1, self.options.max_turns + 1):
            out["steps"] = step
            rec = await ctx.generate(self._request(messages, base_model))
            text = openai_format.text(rec.raw)
            calls = openai_format.tool_calls(rec.raw) if tools else []
            if calls:
                messages.append({"role": "assistant", "content": text or None, "tool_calls": calls})
                actions = [parse_tool_call(c, calc_names) for c in calls]
            else:
                messages.append({"role": "assistant", "content": text})
                actions = [parse_upstream(text) if rules == "upstream" else parse_text(text)]
            ended = False
            for act in actions:
                reply = await self._act(act, env, session, step, out, text, base_model, rules)
                if act.call_id is not None:
                    messages.append({"role": "tool", "tool_call_id": act.call_id, "content": reply or "done"})
                elif reply is not None:
                    messages.append({"role": "user", "content": reply})
                if act.kind == "finish":
                    out["status"] = "finished" if act.error is None else "finish-unreadable"
                    out["answer"] = act.answer
                    ended = True
                    break
                if act.kind == "malformed" and rules == "upstream":
                    out["status"] = "invalid-action"  # MedAgentBench's loop stops at a reply it cannot read
                    ended = True
                    break
            if ended:
                break
        return out

    async def _act(
        self,
        act: Action,
        env: Any,
        session: str,
        step: int,
        out: dict[str, Any],
        text: str,
        base_model: bool,
        rules: str,
    ) -> str | None:
        """Carry out one action, record it in ``out``, and return the message the agent gets back."""
        if act.kind == "malformed":
            out["malformed"].append({"step": step, "error": act.error, "reply": text[:500], "verb": act.verb})
            return None if rules == "upstream" else MALFORMED_REPLY.format(error=act.error)
        if act.kind == "finish":
            if act.error:
                out["malformed"].append({"step": step, "error": act.error, "reply": text[:500]})
            return None
        if act.kind == "calculator":
            from medevals.calculators.tools import run_tool

            result = run_tool(act.url, act.payload)
            out["calculator_calls"].append(
                {"step": step, "tool": act.url, "arguments": act.payload, "result": result}
            )
            return json.dumps(result)
        if act.kind == "get":
            r = await env.get(act.url, session, upstream=rules == "upstream")
            out["actions"].append({"step": step, "kind": "GET", "url": act.url, "status": r.status})
            if r.ok:
                return GET_REPLY.format(data=self._clip(r.text, base_model))
            return f"Error in sending the GET request: HTTP {r.status}: {r.diagnostics()}"
        rtype = str(act.payload.get("resourceType", "")) if isinstance(act.payload, dict) else ""
        write: dict[str, Any] = {"step": step, "url": act.url, "resourceType": rtype, "payload": act.payload}
        out["writes"].append(write)
        if rules == "upstream":
            # MedAgentBench accepts any POST whose body is JSON, without validating or sending it
            accepted = act.error is None
            write.update(status=None, accepted=accepted, diagnostics=act.error)
            out["actions"].append({"step": step, "kind": "POST", "url": act.url, "status": None})
            if accepted and self.options.post_mode == "execute":
                r = await env.post(act.url, act.payload, session)
                write.update(server_status=r.status, server_diagnostics=None if r.ok else r.diagnostics())
            return POST_OK if accepted else UPSTREAM_INVALID_POST
        r = await env.post(act.url, act.payload, session)
        out["actions"].append({"step": step, "kind": "POST", "url": act.url, "status": r.status})
        write.update(status=r.status, accepted=r.ok, diagnostics=None if r.ok else r.diagnostics())
        if r.ok:
            return POST_OK
        return f"POST request rejected: HTTP {r.status}: {r.diagnostics()}"

    # ------------------------------------------------------------------ scoring

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        from medevals.fhir.grading import grade
        from medevals.fhir.tasks import TaskSpec

        spec = TaskSpec.from_dict(item.metadata["spec"])
        truth = item.target if item.target is not None else output.get("truth")
        if truth is None:
            return Score(value=None, explanation="no ground truth (original task without a server read)")
        rules = output.get("rules") or self._rules(item)
        api_base = output.get("api_base") or (
            SANDBOX_BASE if item.metadata.get("world") is not None else (self.options.fhir_base_url or "")
        )
        api_base = api_base.rstrip("/") + "/"
        episode = self._upstream_episode(calls) if rules == "upstream" else _sandbox_episode(output)
        g = grade(spec, truth, episode, api_base=api_base, rules=rules)
        answer = output.get("answer")
        rejected = sum(1 for w in output.get("writes", []) if not w.get("accepted"))
        return Score(
            value=float(g.success),
            answer=answer,
            target=truth,
            parsed=output.get("status") == "finished",
            values={
                "success": float(g.success),
                "answer_ok": float(g.answer_ok),
                "writes_ok": float(g.writes_ok),
                "steps": float(output.get("steps", 0)),
                "malformed_actions": float(len(output.get("malformed", []))),
                "rejected_writes": float(rejected),
                "finished": float(output.get("status") == "finished"),
                **(
                    {"calculator_calls": float(len(output["calculator_calls"]))}
                    if "calculator_calls" in output
                    else {}
                ),
            },
            explanation="; ".join(g.problems) or None,
        )

    def _upstream_episode(self, calls: list[CallRecord]) -> Any:
        """The episode as MedAgentBench's grader reads it, replayed from the raw model responses."""
        from medevals.agents.ehr_actions import agent_replies
        from medevals.fhir.grading import upstream_episode

        replies = agent_replies([c.raw for c in calls if c.role == "candidate"], self._calc_names)
        return upstream_episode(replies, self.options.max_turns)

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        from medevals.scoring.stats import mean_ci

        by_type: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for s in samples:
            if s.score is None or s.score.value is None:
                continue
            row = by_type[s.item.subset or "?"]
            for key in ("success", "answer_ok", "writes_ok", "steps", "malformed_actions", "rejected_writes"):
                v = s.score.values.get(key)
                if v is not None:
                    row[key].append(v)
        if not by_type:
            return {}
        from medevals.fhir.tasks import TASK_TYPES

        order = {name: i for i, name in TASK_TYPES.items()}
        rows = []
        for name in sorted(by_type, key=lambda n: order.get(n, 99)):
            v = by_type[name]
            rows.append(
                [
                    name,
                    len(v["success"]),
                    mean_ci(v["success"]),
                    round(sum(v["answer_ok"]) / len(v["answer_ok"]), 3),
                    round(sum(v["writes_ok"]) / len(v["writes_ok"]), 3),
                    round(sum(v["steps"]) / len(v["steps"]), 2),
                    int(sum(v["malformed_actions"])),
                    int(sum(v["rejected_writes"])),
                ]
            )
        return {
            "tables": [
                {
                    "title": "Success by task type",
                    "columns": [
                        "task type",
                        "n",
                        "success",
                        "answer ok",
                        "writes ok",
                        "mean steps",
                        "malformed actions",
                        "rejected writes",
                    ],
                    "rows": rows,
                }
            ],
            "success_by_type": {r[0]: r[2] for r in rows},
        }


def _sandbox_episode(output: dict[str, Any]) -> Any:
    """The episode as the synthetic benchmark reads it: the sandbox's 201s are the POSTs that count."""
    from medevals.fhir.grading import UNREADABLE, Episode

    status = output.get("status")
    writes = output.get("writes", [])
    answer = output.get("answer")
    return Episode(
        finished=status in ("finished", "finish-unreadable"),
        answer=answer if status == "finished" else UNREADABLE,
        posts=[(str(w.get("url", "")), w.get("payload")) for w in writes if w.get("accepted")],
        any_post=bool(writes) or any(m.get("verb") == "POST" for m in output.get("malformed", [])),
        end=str(status),
    )


def _transcript(messages: list[Message], budget: int) -> str:
    """A completion prompt for base models: the task, then the latest turns that fit ``budget`` chars."""
    first = f"USER: {messages[0]['content']}\n"
    turns = []
    for m in messages[1:]:
        who = "AGENT" if m["role"] == "assistant" else "USER"
        turns.append(f"{who}: {m.get('content') or ''}\n")
    kept: list[str] = []
    used = len(first)
    for t in reversed(turns):
        if used + len(t) > budget:
            break
        kept.append(t)
        used += len(t)
    return first + "".join(reversed(kept)) + "AGENT:"
