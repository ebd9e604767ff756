"""Agent systems in a run's summary: where the calls, tokens and money go, and which paths ran.

Fed one sample at a time by the protocol's ``summarize`` (the MCQ one today): per system
variant, the mean per item of calls, tokens, cost and latency of each declared role, read from
the call records (``system:ROLE:AGENT``), and the paths the items took (MDAgents' triage
branches, MedAgents' voting rounds, parses that fell back to their default) from the trace each
sample keeps. Everything comes from stored samples, so ``rescore`` and ``report`` rebuild it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from medevals.schema import Sample
from medevals.systems.runner import role_usage
from medevals.systems.spec import is_system_variant


@dataclass
class _System:
    n: int = 0
    errors: int = 0
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    branches: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    loops: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    loop_breaks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    defaulted: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _where(path: str) -> str:
    """A trace path without iteration numbers: ``intermediate/round[2]/turn`` -> ``intermediate/round/turn``."""
    return re.sub(r"\[\d+\]", "", path)


class SystemTally:
    def __init__(self) -> None:
        self.per: dict[str, _System] = {}

    def add(self, s: Sample) -> None:
        if not is_system_variant(s.variant):
            return
        v = self.per.setdefault(s.variant, _System())
        v.n += 1
        if s.error is not None:
            v.errors += 1
        for role, u in role_usage(s.calls).items():
            acc = v.roles.setdefault(
                role,
                {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "latency_s": 0.0},
            )
            for k in ("calls", "prompt_tokens", "completion_tokens", "latency_s"):
                acc[k] += u[k]
            acc["cost_usd"] = (
                None if acc["cost_usd"] is None or u["cost_usd"] is None else acc["cost_usd"] + u["cost_usd"]
            )
        for step in ((s.output or {}).get("system") or {}).get("trace") or []:
            if not isinstance(step, dict):
                continue
            if "branch" in step:
                v.branches[(_where(str(step["branch"])), str(step.get("case")))] += 1
            elif "loop" in step:
                where = _where(str(step["loop"]))
                v.loops[where].append(int(step.get("iterations") or 0))
                if step.get("broke"):
                    v.loop_breaks[where] += 1
            elif step.get("defaulted"):
                v.defaulted[_where(str(step.get("stage")))] += 1

    def render(self, tables: list[dict[str, Any]]) -> None:
        if not self.per:
            return
        rows: list[list[Any]] = []
        for name, v in self.per.items():
            total_tokens = sum(u["prompt_tokens"] + u["completion_tokens"] for u in v.roles.values()) or 1
            for role, u in sorted(v.roles.items(), key=lambda kv: -kv[1]["calls"]):
                cost = u["cost_usd"]
                rows.append(
                    [
                        name,
                        role,
                        f"{u['calls'] / v.n:.2f}",
                        f"{u['prompt_tokens'] / v.n:,.0f} / {u['completion_tokens'] / v.n:,.0f}",
                        f"{100 * (u['prompt_tokens'] + u['completion_tokens']) / total_tokens:.0f}%",
                        "unknown" if cost is None else f"${cost / v.n:.5f}",
                        f"{u['latency_s'] / v.n:.2f}s",
                    ]
                )
        tables.append(
            {
                "title": "Agent systems: calls, tokens, cost and latency per role (means per item)",
                "columns": [
                    "system",
                    "role",
                    "calls",
                    "tokens in / out",
                    "share of tokens",
                    "cost",
                    "latency (sum of calls)",
                ],
                "rows": rows,
                # measured, not a result: kept in execution.json, out of metrics.json (runs/execution.py)
                "timing_columns": [6],
                "caption": "Every inner call is recorded as system:ROLE:AGENT and goes through the engine (cache, "
                "journal, retries). Cost is tokens x the given prices (cached calls included at the same price, "
                "so a re-run from the cache shows what the system costs); 'unknown' when a price is not given.",
            }
        )
        paths: list[list[Any]] = []
        for name, v in self.per.items():
            for (where, case), k in sorted(v.branches.items()):
                paths.append([name, f"branch {where or '(top)'}", f"-> {case}", f"{k} of {v.n} items"])
            for where, its in sorted(v.loops.items()):
                mean = sum(its) / len(its)
                paths.append(
                    [
                        name,
                        f"loop {where}",
                        f"{mean:.2f} iterations on average (max {max(its)})",
                        f"ended early {v.loop_breaks.get(where, 0)} of {len(its)} times",
                    ]
                )
            for where, k in sorted(v.defaulted.items()):
                paths.append(
                    [name, f"reply read {where}", "nothing readable: declared default used", f"{k} times"]
                )
        if paths:
            tables.append(
                {
                    "title": "Agent systems: paths taken",
                    "columns": ["system", "where", "what", "how often"],
                    "rows": paths,
                    "caption": "From each sample's trace (output.system.trace): branches chosen, loop iterations "
                    "(a loop that ends early met its break condition, e.g. every expert agreed), and replies no "
                    "declared parse could read (the system went on with its declared default).",
                }
            )
