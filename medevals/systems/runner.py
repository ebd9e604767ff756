"""Running a declared agent system on one item: every call through ``SolveContext.generate``.

The protocol hands the runner a ``SystemTask`` (the item as text, how to state an answer, how to
read one for a vote); the runner walks the system's stages and returns a ``SystemResult``: which
calls hold the final answer, its text, and a trace of who said what. The protocol then scores
that answer exactly as it scores a single model's reply: a system never scores anything itself.

Determinism (what makes resume and the cache work): the calls of an ask stage run in parallel,
but each gets its number before any is sent, in instance order; the number gives the call its
``sample_index`` (part of the request key) and, for sampled roles, its ``seed``. Control flow
depends only on replies, so a resumed unit sends the same requests in the same places and the
journal answers every call that had finished. The sample's calls are stored in that order too.

Each call is recorded under the role ``system:ROLE:AGENT`` (e.g. ``system:expert:cardiology``),
answered by the run's model named by the role (``candidate`` by default), so tokens, cost and
latency are accounted per agent role from the call records alone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medevals.errors import ConfigError, MedevalsError
from medevals.systems.parse import limits, parse_reply
from medevals.systems.spec import (
    INSTANCE_NAME,
    PREFIX,
    AskStage,
    BranchStage,
    BreakStage,
    EachStage,
    LoopStage,
    RoleSpec,
    SystemSpec,
)
from medevals.systems.templates import compile_expression, compile_template

if TYPE_CHECKING:
    from medevals.protocols.base import SolveContext
    from medevals.schema import CallRecord

#: Calls of one unit are numbered from ``repeat * STRIDE``: a system's sample indices and seeds
#: never meet those of another repeat (or of the plain strategies, which use the repeat itself).
STRIDE = 100_000
DEFAULT_MAX_TOKENS = 1024


class SystemRunError(ValueError):
    """A system that cannot go on with this item (a branch value with no case, a count that is not
    a number, too many calls): the unit is recorded as an error, never as a wrong answer."""


@dataclass
class SystemTask:
    """What a protocol gives a system for one item.

    ``variables`` holds ``question``, ``stem``, ``options``, ``answer_instruction`` and
    ``reasoning_instruction`` (see ``spec.PROTOCOL_NAMES``). ``answer_key`` reads one reply's
    answer the protocol's way (an option letter; a normalised text) so a majority vote counts
    equal answers together; None = unreadable. ``content`` builds a user message's content for
    prompts that show the question (the item's images go with it). ``temperature`` and
    ``max_tokens`` are the protocol's options: the first is the default of roles that declare
    none, the second (when the user set it) caps every call.
    """

    variables: dict[str, str]
    answer_key: Callable[[str], Hashable | None]
    content: Callable[[str], Any] | None = None
    temperature: float = 0.0
    max_tokens: int | None = None


_PUNCT = re.compile(r"[\W_]+")


def text_task(
    question: str,
    *,
    answer_instruction: str = "Give your final answer.",
    reasoning_instruction: str = "Think step by step, then give your final answer.",
    temperature: float = 0.0,
    max_tokens: int | None = None,
    content: Callable[[str], Any] | None = None,
) -> SystemTask:
    """A free-text item for a system (a protocol that scores text, e.g. with judges): ``question`` is
    the prompt the model would get alone; ``stem`` is the same and ``options`` empty. Votes count
    answers that are equal once lower-cased with punctuation and spacing dropped; the protocol then
    scores ``SystemResult.final_text`` exactly as it scores a single reply."""

    def key(text: str) -> str | None:
        norm = _PUNCT.sub(" ", text.lower()).strip()
        return norm or None

    return SystemTask(
        variables={
            "question": question,
            "stem": question,
            "options": "",
            "answer_instruction": answer_instruction,
            "reasoning_instruction": reasoning_instruction,
        },
        answer_key=key,
        content=content,
        temperature=temperature,
        max_tokens=max_tokens,
    )


@dataclass
class SystemResult:
    final: list[int]
    final_text: str
    aggregate: str
    agreement: float | None
    trace: list[dict[str, Any]]
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, spec: SystemSpec) -> dict[str, Any]:
        """The sample's ``output["system"]``: enough to re-score and to explain the answer."""
        return {
            "name": spec.ref or spec.name,
            "final": self.final,
            "aggregate": self.aggregate,
            "agreement": self.agreement,
            "roles": self.usage,
            "trace": self.trace,
        }


# ----------------------------------------------------------------------------- values templates see


class Instance:
    """One agent: its role, label and number (1-based, in order of first appearance in its role)."""

    __slots__ = ("index", "label", "role")

    def __init__(self, role: str, label: str, index: int):
        self.role, self.label, self.index = role, label, index

    def __str__(self) -> str:
        return self.label


class Entry:
    """One reply: who gave it (``label``, ``index``, ``role``), its ``text``, what ``parse`` read,
    whom it is addressed to (``to``) and the element it answered (``item``, ``target``)."""

    __slots__ = ("call", "index", "item", "label", "parsed", "role", "target", "text", "to")

    def __init__(
        self,
        *,
        role: str,
        label: str,
        index: int,
        text: str,
        parsed: Any,
        to: str | None,
        item: Any,
        target: Any,
        call: CallRecord,
    ):
        self.role, self.label, self.index, self.text = role, label, index, text
        self.parsed, self.to, self.item, self.target, self.call = parsed, to, item, target, call

    def __str__(self) -> str:
        return self.text


class Group:
    """The replies bound to a name, as templates see them (``{{ answers }}``, ``answers.others``)."""

    def __init__(self, entries: list[Entry], me: Instance | None = None):
        self._entries = entries
        self._me = me

    def view(self, me: Instance | None) -> Group:
        return Group(self._entries, me)

    def _mine(self, e: Entry) -> bool:
        me = self._me
        return me is not None and e.role == me.role and e.label == me.label

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    @property
    def text(self) -> str:
        return str(self)

    @property
    def parsed(self) -> Any:
        if len(self._entries) == 1:
            return self._entries[0].parsed
        return [e.parsed for e in self._entries]

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self._entries]

    @property
    def others(self) -> Group:
        return Group([e for e in self._entries if not self._mine(e)], self._me)

    @property
    def mine(self) -> Entry | None:
        return next((e for e in reversed(self._entries) if self._mine(e)), None)

    @property
    def to_me(self) -> Group:
        me = self._me
        if me is None:
            return Group([], None)
        wanted = {str(me.index), me.label.lower()}
        return Group([e for e in self._entries if e.to is not None and e.to.strip().lower() in wanted], me)

    @property
    def last(self) -> Entry | None:
        return self._entries[-1] if self._entries else None

    def all(self, value: Any) -> bool:
        return bool(self._entries) and all(e.parsed == value for e in self._entries)

    def any(self, value: Any) -> bool:
        return any(e.parsed == value for e in self._entries)

    def count(self, value: Any) -> int:
        return sum(1 for e in self._entries if e.parsed == value)

    def __iter__(self) -> Any:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __str__(self) -> str:
        if len(self._entries) == 1:
            return self._entries[0].text
        return "\n\n".join(f"{e.label}: {e.text}" for e in self._entries)


class _Break(Exception):  # control flow out of a loop, not an error
    def __init__(self, loop: str):
        self.loop = loop


def _slug(label: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    return s[:40].strip("-") or "agent"


def _default_label(item: Any, i: int) -> str:
    if isinstance(item, Entry | Instance):
        return item.label
    if isinstance(item, dict):
        for k in ("label", "name", "role", "goal"):
            v = item.get(k)
            if isinstance(v, str) and v.strip():
                return v.strip()
        return str(i)
    if isinstance(item, str):
        return item.strip()[:80] or str(i)
    if isinstance(item, int | float) and not isinstance(item, bool):
        return str(item)
    return str(i)


def _as_list(value: Any, what: str) -> list[Any]:
    from jinja2 import Undefined

    if value is None or isinstance(value, Undefined):
        return []
    if isinstance(value, Group):
        return value.entries
    if isinstance(value, str | int | float | Entry):
        return [value]
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, Iterable):
        return list(value)
    raise SystemRunError(f"{what}: expected a list, got {type(value).__name__}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Entry | Instance):
        return value.label
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# ----------------------------------------------------------------------------- the run


class _Run:
    def __init__(self, spec: SystemSpec, task: SystemTask, ctx: SolveContext):
        self.spec, self.task, self.ctx = spec, task, ctx
        self.n_calls = 0
        self.seq: dict[int, int] = {}  # id(CallRecord) -> call number
        self.memory: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.indices: dict[str, dict[str, int]] = {}
        self.trace: list[dict[str, Any]] = []
        self.base = ctx.repeat * STRIDE

    # -- evaluation helpers
    @staticmethod
    def _context(scope: dict[str, Any], me: Instance | None) -> dict[str, Any]:
        return {k: (v.view(me) if isinstance(v, Group) else v) for k, v in scope.items()}

    def _eval(self, source: str, scope: dict[str, Any], what: str, me: Instance | None = None) -> Any:
        try:
            return compile_expression(source)(**self._context(scope, me))
        except MedevalsError:
            raise
        except Exception as e:
            raise SystemRunError(
                f"system '{self.spec.name}' {what} '{source}': {type(e).__name__}: {e}"
            ) from None

    def _render(self, source: str, scope: dict[str, Any], what: str, me: Instance | None = None) -> str:
        try:
            return compile_template(source).render(**self._context(scope, me))
        except Exception as e:
            raise SystemRunError(f"system '{self.spec.name}' {what}: {type(e).__name__}: {e}") from None

    def _count(self, value: int | str, scope: dict[str, Any], what: str) -> int:
        v = value if isinstance(value, int) else self._eval(value, scope, what)
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise SystemRunError(
                f"system '{self.spec.name}' {what}: '{value}' is {v!r}, not a number"
            ) from None
        if n < 0:
            raise SystemRunError(f"system '{self.spec.name}' {what}: '{value}' is {n}")
        return n

    def _instance(self, role: str, label: str) -> Instance:
        known = self.indices.setdefault(role, {})
        if label not in known:
            known[label] = len(known) + 1
        return Instance(role, label, known[label])

    # -- stages
    async def stages(self, stages: list[Any], scope: dict[str, Any], path: str) -> None:
        for st in stages:
            if isinstance(st, AskStage):
                await self.ask(st, scope, path)
            elif isinstance(st, LoopStage):
                await self.loop(st, scope, path)
            elif isinstance(st, BreakStage):
                if self._eval(st.if_, scope, f"break {st.break_} if"):
                    raise _Break(st.break_)
            elif isinstance(st, BranchStage):
                value = self._eval(st.branch, scope, "branch")
                case = str(value) if value is not None else ""
                chosen = case if case in st.cases else st.default
                if chosen is None:
                    raise SystemRunError(
                        f"system '{self.spec.name}' branch '{st.branch}' is '{case}', which is none of "
                        f"{list(st.cases)} (and no default)"
                    )
                self.trace.append({"branch": f"{path}{st.branch}", "value": case, "case": chosen})
                await self.stages(st.cases[chosen], scope, f"{path}{chosen}/")
            elif isinstance(st, EachStage):
                await self.each(st, scope, path)

    async def loop(self, st: LoopStage, scope: dict[str, Any], path: str) -> None:
        times = self._count(st.times, scope, f"loop {st.loop} times")
        done = 0
        broke = False
        try:
            for i in range(1, times + 1):
                scope[st.loop] = i
                done = i
                await self.stages(st.stages, scope, f"{path}{st.loop}[{i}]/")
        except _Break as b:
            if b.loop != st.loop:
                raise
            broke = True
        finally:
            scope.pop(st.loop, None)
        self.trace.append({"loop": f"{path}{st.loop}", "iterations": done, "broke": broke})

    async def each(self, st: EachStage, scope: dict[str, Any], path: str) -> None:
        items = _as_list(self._eval(st.each, scope, "each"), f"each '{st.each}'")
        collected: dict[str, list[Entry]] = {}
        for i, item in enumerate(items, start=1):
            inner = dict(scope)
            inner[st.as_] = item
            await self.stages(st.stages, inner, f"{path}{st.as_}[{i}]/")
            for k, v in inner.items():
                if isinstance(v, Group) and scope.get(k) is not v:
                    collected.setdefault(k, []).extend(v.entries)
        for k, entries in collected.items():
            scope[k] = Group(entries)

    async def ask(self, st: AskStage, scope: dict[str, Any], path: str) -> None:
        role = self.spec.roles[st.role]
        if st.agents is not None:
            items: list[Any] = list(range(1, self._count(st.agents, scope, f"ask {st.ask} agents") + 1))
        else:
            assert st.for_each is not None
            items = _as_list(self._eval(st.for_each, scope, f"ask {st.ask} for_each"), f"ask {st.ask}")
        # Instances and their calls, all decided (and numbered) before the first is sent.
        plans: list[tuple[Instance, dict[str, Any], list[tuple[int, Any]]]] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items, start=1):
            inner = dict(scope)
            if st.for_each is not None:
                inner[st.as_] = item
            label = (
                self._render(st.label, inner, f"ask {st.ask} label").strip() if st.label is not None else ""
            )
            label = label or _default_label(item, i)
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label} #{seen[label]}"
            me = self._instance(st.role, label)
            inner[INSTANCE_NAME] = me
            if st.when is not None and not self._eval(st.when, inner, f"ask {st.ask} when", me):
                continue
            targets = (
                _as_list(self._eval(st.over, inner, f"ask {st.ask} over", me), f"ask {st.ask} over")
                if st.over is not None
                else [None]
            )
            numbered = []
            for t in targets:
                self.n_calls += 1
                if self.n_calls > self.spec.max_calls:
                    raise SystemRunError(
                        f"system '{self.spec.name}' would make more than {self.spec.max_calls} calls on this "
                        "item (max_calls)"
                    )
                numbered.append((self.n_calls, t))
            plans.append((me, inner, numbered))

        async def run_instance(
            me: Instance, inner: dict[str, Any], numbered: list[tuple[int, Any]]
        ) -> list[Entry]:
            out = []
            for number, target in numbered:
                local = dict(inner)
                if st.over is not None:
                    local[st.over_as] = target
                out.append(await self.call(st, role, me, local, number, target, path))
            return out

        results = await _all([run_instance(*p) for p in plans])
        scope[st.ask] = Group([e for entries in results for e in entries])

    async def call(
        self,
        st: AskStage,
        role: RoleSpec,
        me: Instance,
        scope: dict[str, Any],
        number: int,
        target: Any,
        path: str,
    ) -> Entry:
        from medevals.models import openai_format
        from medevals.protocols.freetext import conversation_request

        ctx, task = self.ctx, self.task
        if not ctx.has_role(role.model):
            raise ConfigError(
                f"system '{self.spec.name}': role '{st.role}' is answered by the '{role.model}' model, which this "
                "run does not have (e.g. pass --judge SPEC for judge:0)"
            )
        prompt = self._render(st.prompt, scope, f"ask {st.ask} prompt", me)
        system = self._render(role.system, scope, f"role {st.role} system", me) if role.system else None
        to = self._render(st.to, scope, f"ask {st.ask} to", me).strip() if st.to is not None else None
        key = (st.role, me.label)
        history = self.memory.get(key, []) if role.memory else []
        shows_item = task.content is not None and _shows_item(st.prompt)
        user = {"role": "user", "content": task.content(prompt) if shows_item and task.content else prompt}
        messages = [*history, user]
        temperature = task.temperature if role.temperature is None else role.temperature
        max_tokens = task.max_tokens or role.max_tokens or DEFAULT_MAX_TOKENS
        request = conversation_request(
            messages,
            base=ctx.is_base_model(role.model),
            max_tokens=max_tokens,
            temperature=temperature,
            system=system,
        )
        if temperature > 0:
            request.body["seed"] = ctx.seed * STRIDE + number
        rec = await ctx.generate(
            request,
            role=f"{PREFIX}{st.role}:{_slug(me.label)}",
            model_role=role.model,
            sample_index=self.base + number,
        )
        self.seq[id(rec)] = number
        text = openai_format.text(rec.raw)
        if role.memory:
            self.memory[key] = [*messages, {"role": "assistant", "content": text}]
        parsed, defaulted = (None, False)
        if st.parse_ is not None:
            spec = limits(st.parse_, lambda src: self._eval(src, scope, f"ask {st.ask} parse max", me))
            parsed, defaulted = parse_reply(spec, text)
        step: dict[str, Any] = {
            "call": number,
            "stage": f"{path}{st.ask}",
            "role": st.role,
            "agent": me.label,
        }
        if st.parse_ is not None:
            step["parsed"] = _jsonable(parsed)
            if defaulted:
                step["defaulted"] = True
        if to is not None:
            step["to"] = to
        self.trace.append(step)
        return Entry(
            role=st.role,
            label=me.label,
            index=me.index,
            text=text,
            parsed=parsed,
            to=to,
            item=scope.get(st.as_) if st.for_each is not None else None,
            target=target,
            call=rec,
        )


def _shows_item(template: str) -> bool:
    """Whether a prompt shows the item (its images then go with it)."""
    return bool(re.search(r"\b(question|stem)\b", template))


async def _all(coros: list[Any]) -> list[Any]:
    """Run concurrently; on the first failure cancel the rest and raise that failure itself (a
    ``CallFailed`` must reach the engine as such, not wrapped in an ExceptionGroup)."""
    if not coros:
        return []
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        pending = [t for t in tasks if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    for t in tasks:
        if not t.cancelled() and t.exception() is not None:
            raise t.exception()  # type: ignore[misc]
    return [t.result() for t in tasks]


def role_usage(calls: list[CallRecord]) -> dict[str, dict[str, Any]]:
    """Calls, tokens, cost (at the given prices; None when a price is unknown) and latency per
    declared role of a system (``system:ROLE:AGENT`` -> ROLE), from the call records alone."""
    out: dict[str, dict[str, Any]] = {}
    for c in calls:
        if not c.role.startswith(PREFIX):
            continue
        role = c.role[len(PREFIX) :].split(":", 1)[0]
        u = out.setdefault(
            role, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "latency_s": 0.0}
        )
        u["calls"] += 1
        u["prompt_tokens"] += c.usage.prompt_tokens
        u["completion_tokens"] += c.usage.completion_tokens
        u["latency_s"] += c.latency_s
        u["cost_usd"] = None if c.cost_usd is None or u["cost_usd"] is None else u["cost_usd"] + c.cost_usd
    return out


def usage_values(calls: list[CallRecord]) -> dict[str, float | None]:
    """A sample's totals as ``Score.values`` (each gets a mean with a CI per variant): calls of the
    model answering (a system's roles; judges and embedders are not the system's), tokens in + out
    and cost at the given prices (None when a price is unknown). Latency is not
    one: it measures the server, not the answers (metrics.json stays a function of the responses;
    the per-item latency is in the strategies table and the Pareto points, via execution.json)."""
    calls = [c for c in calls if c.role.startswith(PREFIX) or c.role == "candidate"]  # not the judges
    cost: float | None = 0.0
    for c in calls:
        cost = None if cost is None or c.cost_usd is None else cost + c.cost_usd
    return {
        "calls": float(len(calls)),
        "tokens": float(sum(c.usage.prompt_tokens + c.usage.completion_tokens for c in calls)),
        "cost_usd": cost,
    }


async def run_system(spec: SystemSpec, task: SystemTask, ctx: SolveContext) -> SystemResult:
    """Run ``spec`` on one item. Raises ``CallFailed`` (a call failed for good: an unscored error
    sample, retried on the next run) or ``SystemRunError`` (this item cannot go through it)."""
    from medevals.protocols.strategies import majority

    run = _Run(spec, task, ctx)
    scope: dict[str, Any] = {**spec.parameters, **task.variables}
    try:
        await run.stages(spec.stages, scope, "")
    except _Break as b:  # the checks allow a break only inside its loop
        raise SystemRunError(f"system '{spec.name}': break '{b.loop}' outside its loop") from None
    group = scope.get(spec.answer.from_)
    if not isinstance(group, Group) or not group:
        raise SystemRunError(
            f"system '{spec.name}': no reply is bound to '{spec.answer.from_}' on this item (its stages were skipped)"
        )
    entries = group.entries if spec.answer.aggregate == "majority" else group.entries[-1:]
    # The sample's calls in call-number order (they finished in whatever order the server chose).
    ctx.calls.sort(key=lambda r: run.seq.get(id(r), -1))
    position = {id(r): i for i, r in enumerate(ctx.calls)}
    final = [position[id(e.call)] for e in entries]
    agreement: float | None = None
    if spec.answer.aggregate == "majority":
        keys = [task.answer_key(e.text) for e in entries]
        winner, agreement = majority(keys)
        chosen = next(
            (e for e, k in zip(entries, keys, strict=True) if k == winner and winner is not None), entries[0]
        )
        final_text = chosen.text
    else:
        final_text = entries[0].text
    return SystemResult(
        final=final,
        final_text=final_text,
        aggregate=spec.answer.aggregate,
        agreement=agreement,
        trace=run.trace,
        usage=role_usage(ctx.calls),
    )
