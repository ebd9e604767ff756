"""Step verification (MedPRMBench / ProcessBench style): name the first wrong step of a reasoning chain.

An item holds a reasoning chain split into steps (``metadata["steps"]``), optionally the case
it reasons about (``context``) and the question (``input``); its target is the number of the
first wrong step, 0 when every step is right, and ``metadata["error_type"]`` labels the error.
The model (the verifier under test) sees the numbered steps and answers
``{"first_wrong_step": N or "none"}`` (read with ``scoring/json_extract``; a plain "step 3" or
"none" line is read too, anything else is unparseable and wrong).

Scores, ProcessBench's (Zheng et al. 2024) and step-level ones:

- ``accuracy``: the step named equals the label ("none" for a clean chain);
- ``error_accuracy`` (chains with an error: the exact first wrong step named) and
  ``clean_accuracy`` (clean chains: "none"); ProcessBench's F1 is their harmonic mean
  (summary, with a bootstrap CI over chains);
- step-level precision / recall / F1 (micro over chains): a step named wrong is a true positive
  when it is the labelled one, a false positive otherwise; a labelled step not named is a false
  negative. With one labelled step per chain this is the first-error rule seen as detection;
- by error type (``value``, ``coefficient``, ``unit``, ``arithmetic``, any label a spec gives):
  first-error accuracy, detected at all, named too early, too late, missed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.schema import CallRecord, Item, ModelRequest, Sample, Score
from medevals.scoring.agreement import bootstrap_stat
from medevals.scoring.json_extract import extract_json
from medevals.scoring.stats import mean_ci

TEMPLATE_NAME = "step_verify@v1"
TEMPLATE = (
    "Below is {subject}, and a step-by-step solution. Check every step in order: the values it "
    "takes from the case, the formula it uses, its units and its arithmetic. Find the first step that "
    "is wrong; if every step is right, say none.\n\n"
    "{case}"
    "# Question\n{question}\n\n"
    "# Solution\n{steps}\n\n"
    'Reply with a JSON object only: {{"first_wrong_step": the number of the first wrong step, or "none", '
    '"explanation": "one sentence"}}'
)
BASE_PREFILL = '{"first_wrong_step":'
_NONE = {"none", "null", "no", "0", "-1", "all correct", "correct"}


def format_steps(steps: list[str]) -> str:
    return "\n".join(f"[{i}] {s}" for i, s in enumerate(steps, start=1))


def read_first_wrong(text: str, n_steps: int) -> int | None:
    """The step number a reply names (0 = none), or None when it names nothing readable or a
    step that does not exist."""

    def norm(v: Any) -> int | None:
        if v is None or (isinstance(v, str) and v.strip().lower() in _NONE):
            return 0
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            n = v
        elif isinstance(v, float) and v.is_integer():
            n = int(v)
        elif isinstance(v, str) and re.fullmatch(r"\s*(?:step\s*)?\[?(\d+)\]?\s*", v, re.I):
            n = int(re.sub(r"\D", "", v))
        else:
            return None
        if n in (0, -1):
            return 0
        return n if 1 <= n <= n_steps else None

    got = extract_json(text, want=dict, accept=lambda d: "first_wrong_step" in d)
    if got.value is not None:
        return norm(got.value["first_wrong_step"])
    t = (text or "").strip()
    m = re.search(r"first (?:wrong|incorrect|erroneous) step is (?:step\s*)?\[?(\d+|none)\]?", t, re.I)
    if m:
        return norm(m.group(1))
    if re.fullmatch(r"(?:step\s*)?\[?\d+\]?\.?|none\.?", t, re.I):
        return norm(t.rstrip("."))
    return None


class StepVerifyOptions(ProtocolOptions):
    subject: str = Field(
        "a patient note and a question about it", description="what the case is, for the prompt"
    )
    max_tokens: int = Field(512, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)


class StepVerifyProtocol(Protocol):
    name = "step-verify"
    primary_metric = "accuracy"
    Options = StepVerifyOptions
    options: StepVerifyOptions

    def templates(self) -> dict[str, str]:
        return {TEMPLATE_NAME: TEMPLATE, "base_prefill": BASE_PREFILL}

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None

    def request(self, item: Item, base: bool) -> ModelRequest:
        steps = item.metadata.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ConfigError(f"item {item.id}: the step-verify protocol needs metadata.steps (a list)")
        prompt = TEMPLATE.format(
            subject=self.options.subject,
            case=f"# Case\n{item.context}\n\n" if item.context else "",
            question=item.input if isinstance(item.input, str) else str(item.input),
            steps=format_steps([str(s) for s in steps]),
        )
        o = self.options
        if base:
            body = {
                "prompt": prompt + "\n\nVerdict JSON: " + BASE_PREFILL,
                "max_tokens": 8,
                "temperature": o.temperature,
                "stop": ["}", ",", "\n"],
            }
            return ModelRequest(kind="completion", body=body)
        body = {
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": o.max_tokens,
            "temperature": o.temperature,
        }
        return ModelRequest(kind="chat", body=body)

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        base = ctx.is_base_model()
        await ctx.generate(self.request(item, base))
        return {"base_prefill": BASE_PREFILL if base else None}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        text = openai_format.text(calls[-1].raw) if calls else ""
        if output.get("base_prefill"):
            text = output["base_prefill"] + " " + text.strip() + "}"
        n = len(item.metadata.get("steps") or [])
        got = read_first_wrong(text, n)
        label = int(item.target or 0)
        value = float(got == label)
        values: dict[str, float | None] = {}
        if label:
            values["error_accuracy"] = value
        else:
            values["clean_accuracy"] = value
        return Score(
            value=value,
            answer=got,
            target=label,
            parsed=got is not None,
            values=values,
            explanation="none named" if got == 0 else (f"step {got} named" if got else "unreadable reply"),
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        rows: list[tuple[int, int | None, str]] = []  # (label, named, type)
        for s in samples:
            if s.score is None or s.score.value is None or not s.score.applicable:
                continue
            named = s.score.answer if isinstance(s.score.answer, int) else None
            kind = str(s.item.metadata.get("error_type") or ("clean" if not s.item.target else "unlabelled"))
            rows.append((int(s.item.target or 0), named, kind))
        if not rows:
            return {}
        tables = [self._overall(rows), self._by_type(rows)]
        return {"tables": tables, "step_level": step_counts(rows)}

    def _overall(self, rows: list[tuple[int, int | None, str]]) -> dict[str, Any]:
        err = [float(n == lab) for lab, n, _ in rows if lab]
        clean = [float(n == 0) for lab, n, _ in rows if not lab]
        f1 = bootstrap_stat(rows, processbench_f1, seed=0) if err and clean else None
        p = bootstrap_stat(rows, lambda r: step_prf(r)[0], seed=0)
        r_ = bootstrap_stat(rows, lambda r: step_prf(r)[1], seed=0)
        f = bootstrap_stat(rows, lambda r: step_prf(r)[2], seed=0)
        body = [
            ["first-error accuracy, chains with an error", mean_ci(err) if err else "-", len(err)],
            ["accuracy, clean chains ('none')", mean_ci(clean) if clean else "-", len(clean)],
            ["ProcessBench F1 (harmonic mean of the two)", f1 or "-", len(rows)],
            ["step-level precision", p, len(rows)],
            ["step-level recall", r_, len(rows)],
            ["step-level F1", f, len(rows)],
        ]
        return {
            "title": "Step verification",
            "columns": ["metric", "% [95% CI]", "chains"],
            "rows": body,
            "terminal": True,
            "caption": "Step level: a step named wrong is a true positive when it is the labelled first "
            "wrong step, else a false positive; a labelled step not named is a false negative. CIs of "
            "F1, precision and recall: percentile bootstrap over chains.",
        }

    def _by_type(self, rows: list[tuple[int, int | None, str]]) -> dict[str, Any]:
        groups: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for lab, n, kind in rows:
            groups[kind].append((lab, n))
        body = []
        for kind in sorted(groups, key=lambda k: (k == "clean", k)):
            g = groups[kind]
            if kind == "clean":
                body.append([kind, len(g), mean_ci([float(n == 0) for _, n in g]), "-", "-", "-", "-"])
                continue
            body.append(
                [
                    kind,
                    len(g),
                    mean_ci([float(n == lab) for lab, n in g]),
                    mean_ci([float(bool(n)) for _, n in g]),
                    mean_ci([float(bool(n) and n < lab) for lab, n in g]),
                    mean_ci([float(bool(n) and n > lab) for lab, n in g]),
                    mean_ci([float(n == 0) for _, n in g]),
                ]
            )
        return {
            "title": "Step verification by error type",
            "columns": [
                "error type",
                "chains",
                "right %",
                "flagged any step %",
                "too early %",
                "too late %",
                "missed %",
            ],
            "rows": body,
            "terminal": True,
            "caption": "right: the labelled first wrong step named ('none' for clean chains); flagged: any "
            "step named; too early / too late: a step before / after the labelled one; missed: 'none'. "
            "Unreadable replies count in the denominators and in no column but 'right'.",
        }


def step_counts(rows: list[tuple[int, int | None, str]]) -> dict[str, int]:
    tp = sum(1 for lab, n, _ in rows if lab and n == lab)
    fp = sum(1 for lab, n, _ in rows if n and n != lab)
    fn = sum(1 for lab, n, _ in rows if lab and n != lab)
    return {"tp": tp, "fp": fp, "fn": fn}


def step_prf(rows: list[tuple[int, int | None, str]]) -> tuple[float, float, float]:
    c = step_counts(rows)
    nan = float("nan")
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else nan  # nothing named: undefined
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else nan
    f = nan if p != p or r != r else (2 * p * r / (p + r) if p + r else 0.0)
    return p, r, f


def processbench_f1(rows: list[tuple[int, int | None, str]]) -> float:
    err = [n == lab for lab, n, _ in rows if lab]
    clean = [n == 0 for lab, n, _ in rows if not lab]
    if not err or not clean:
        return float("nan")
    a, b = sum(err) / len(err), sum(clean) / len(clean)
    return 2 * a * b / (a + b) if a + b else 0.0
