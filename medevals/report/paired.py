"""Paired differences of two runs as text: the terminal table of ``medevals report A B`` and the
formatting the HTML report shares (a difference in percentage points, or on a metric's scale)."""

from __future__ import annotations

import math

from rich.table import Table
from rich.text import Text

from medevals.runs.paired_runs import MetricPair, RunPair, VariantPair

#: Discordant item ids printed per direction in the terminal (the HTML report lists them all).
TERMINAL_IDS = 8


def _ok(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def fmt_level(m: MetricPair, x: float | None) -> str:
    """A run's mean: a percentage, or a number on the metric's scale (a 1-5 rating)."""
    if not _ok(x):
        return "—"
    assert x is not None
    return f"{x:.2f}" if m.scale else f"{100 * x:.1f}"


def fmt_delta(m: MetricPair, x: float | None) -> str:
    if not _ok(x):
        return "—"
    assert x is not None
    return f"{x:+.2f}" if m.scale else f"{100 * x:+.1f}"


def fmt_diff(m: MetricPair) -> str:
    """``+17.5 [-2.5, +37.5]`` (percentage points of a share) or ``+0.25 [-0.10, +0.60]`` (a scale)."""
    d = m.diff
    if not _ok(d.delta):
        return "—"
    ci = f" [{fmt_delta(m, d.ci_low)}, {fmt_delta(m, d.ci_high)}]" if _ok(d.ci_low) else ""
    return f"{fmt_delta(m, d.delta)}{ci}"


def fmt_p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_unpaired(v: VariantPair) -> str:
    return ", ".join(f"{n} {why}" for why, n in v.unpaired.items() if n) or "0"


def paired_rows(v: VariantPair) -> list[tuple[MetricPair, str]]:
    """(metric, label) for each metric row of a variant: the primary first."""
    return [(m, m.metric + ("" if m.primary else " (extra)")) for m in v.metrics]


def paired_table(pair: RunPair, label_a: str, label_b: str) -> Table:
    """One row per benchmark x variant x metric: both means, the difference with its 95% CI, the
    discordant counts and McNemar's p for proportions, and the units left unpaired."""
    t = Table(
        title=f"Paired on shared items, B - A (A = {label_a}, B = {label_b})",
        caption="A, B: means (%, or on a metric's scale); B - A: percentage points, 95% CI by item "
        "bootstrap; only A/B: items only that run got right; p: McNemar exact / mid-p",
        title_justify="left",
        caption_justify="left",
    )
    show_unpaired = any(n for v in pair.variants for n in v.unpaired.values())
    cols = [
        ("benchmark [variant]", "left"),
        ("metric", "left"),
        ("pairs", "right"),
        ("A", "right"),
        ("B", "right"),
        ("B - A [95% CI]", "right"),
        ("only A/B", "right"),
        ("p", "right"),
    ]
    labels = [f"{v.benchmark} [{v.label}]" for v in pair.variants]
    longest = max((len(w) for x in labels for w in x.split()), default=9)
    for col, just in cols:
        if col == "benchmark [variant]":  # wraps between name and variant, never inside a word
            t.add_column(col, justify=just, min_width=longest)  # type: ignore[arg-type]
        else:
            t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    if show_unpaired:
        t.add_column("unpaired (either run)", min_width=12)
    for v in pair.variants:
        for i, (m, label) in enumerate(paired_rows(v)):
            d = m.diff
            disc = f"{d.only_a}/{d.only_b}" if d.only_a is not None else ""
            p = f"{fmt_p(d.p_exact)}/{fmt_p(d.p_midp)}" if d.p_exact is not None else ""
            if d.only_a is not None and d.p_exact is None and d.n:
                p = "(repeats)"
            row: list[str | Text] = [
                Text(f"{v.benchmark} [{v.label}]" if i == 0 else ""),
                Text(label),
                str(d.n),
                fmt_level(m, d.mean_a),
                fmt_level(m, d.mean_b),
                fmt_diff(m),
                disc,
                p,
            ]
            if show_unpaired:
                row.append(Text(fmt_unpaired(v) if i == 0 else ""))
            t.add_row(*row)
    return t


def paired_lines(pair: RunPair, label_a: str, label_b: str) -> list[str]:
    """The paired table as one line per metric, for terminals too narrow for its columns."""
    lines = [f"Paired on shared items, B - A (A = {label_a}, B = {label_b}):"]
    for v in pair.variants:
        for m, label in paired_rows(v):
            d = m.diff
            unit = "" if m.scale else " pp"
            text = (
                f"  {v.benchmark} [{v.label}] {label}: {fmt_level(m, d.mean_a)} -> {fmt_level(m, d.mean_b)}, "
                f"B - A {fmt_diff(m)}{unit if _ok(d.delta) else ''} (95% CI), {d.n} pairs"
            )
            if d.only_a is not None:
                text += f"; only A/B right {d.only_a}/{d.only_b}"
            if d.p_exact is not None:
                text += f"; McNemar p {fmt_p(d.p_exact)} (mid-p {fmt_p(d.p_midp)})"
            if m.primary and any(v.unpaired.values()):
                text += f"; unpaired: {fmt_unpaired(v)}"
            lines.append(text)
    return lines


def discordant_lines(pair: RunPair) -> list[str]:
    """Per variant, the first item ids only one run got right (all of them are in the HTML report)."""
    lines = []
    for v in pair.variants:
        for who, rows in (("A", v.only_a), ("B", v.only_b)):
            if not rows:
                continue
            ids = [_unit_label(ra.item_id, ra.repeat, v) for ra, _ in rows[:TERMINAL_IDS]]
            more = f", +{len(rows) - TERMINAL_IDS} more" if len(rows) > TERMINAL_IDS else ""
            lines.append(f"{v.benchmark} [{v.label}] only {who} right ({len(rows)}): {', '.join(ids)}{more}")
    return lines


def missing_lines(pair: RunPair) -> list[str]:
    out = []
    if pair.only_in_a:
        out.append(f"only in A (not compared): {', '.join(pair.only_in_a)}")
    if pair.only_in_b:
        out.append(f"only in B (not compared): {', '.join(pair.only_in_b)}")
    for v in pair.variants:
        if not v.metrics or v.metrics[0].diff.n == 0:
            out.append(f"{v.benchmark} [{v.label}]: no unit scored in both runs ({fmt_unpaired(v)})")
    return out


def _unit_label(item_id: str, repeat: int, v: VariantPair) -> str:
    return item_id if repeat == 0 else f"{item_id} r{repeat}"


def pair_output(pair: RunPair, label_a: str, label_b: str, width: int) -> list[Table | str]:
    """What a terminal shows for ``pair``: the table (one line per metric when narrower than 100
    columns, rather than a table folded mid-number), then the discordant ids and what was left out."""
    head: list[Table | str] = (
        [paired_table(pair, label_a, label_b)] if width >= 100 else list(paired_lines(pair, label_a, label_b))
    )
    return [*head, *discordant_lines(pair), *missing_lines(pair)]
