"""``medevals calculators``: list the library, compute one calculator, validate it against MedCalc-Bench."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Clinical calculator library: list, compute, validate against MedCalc-Bench.", no_args_is_help=True
)


@app.command("list")
def list_() -> None:
    """Every calculator: MedCalc-Bench id, name (for `compute`), tool name (what a model calls, also
    over MCP), title, result unit."""
    from medevals.calculators import all_calculators
    from medevals.calculators.tools import tool_name

    calcs = all_calculators()
    w = max(len(c.slug) for c in calcs) + 2
    typer.echo(f"{'id':>3}  {'name':<{w}}{'tool name':<{w}}title [unit]")
    for c in calcs:
        typer.echo(f"{c.id:>3}  {c.slug:<{w}}{tool_name(c):<{w}}{c.title} [{c.unit or '-'}]")


@app.command("compute")
def compute(
    name: Annotated[str, typer.Argument(help="slug, MedCalc-Bench id or title")],
    inputs: Annotated[str, typer.Argument(help='JSON object, e.g. \'{"weight": 70, "height": [70, "in"]}\'')],
) -> None:
    """Run one calculator on JSON inputs; errors are printed as typed JSON."""
    from medevals.calculators.tools import run_tool

    out = run_tool(name.replace("-", "_"), inputs)
    typer.echo(json.dumps(out))
    if "error" in out:
        raise typer.Exit(2)


@app.command("validate")
def validate(
    data_dir: Annotated[Path | None, typer.Option(help="Data root (default $MEDEVALS_DATA).")] = None,
    disagreements: Annotated[
        Path | None, typer.Option(help="Write every disagreeing row as JSONL here.")
    ] = None,
    per_calculator: Annotated[bool, typer.Option(help="Print agreement per calculator.")] = False,
) -> None:
    """Recompute each MedCalc-Bench row from its Relevant Entities; report agreement and disagreement classes."""
    from dataclasses import asdict

    from medevals.benchmarks.base import data_root
    from medevals.calculators.validate import validate_folder
    from medevals.errors import DataError

    root = data_root(data_dir)
    if root is None:
        raise DataError("pass --data-dir DIR or set MEDEVALS_DATA (DIR/medcalc_bench/ inside)")
    rep = validate_folder(root / "medcalc_bench")
    s = rep.summary()
    for key in ("original", "corrected"):
        r = s[key]
        typer.echo(f"{key:>9} labels: {r['agree']}/{r['n']} rows agree ({100 * r['rate']:.1f}%)")
    typer.echo(f"corrected 'N/A' rows (not judged): {s['corrected_na_rows']}")
    for k, v in sorted(s["disagreement_classes"].items()):
        typer.echo(f"  disagreement class {k}: {v}")
    if per_calculator:
        for name, (ko, no, kc, nc) in rep.per_calculator().items():
            typer.echo(f"  {name:<55} original {ko}/{no}  corrected {kc}/{nc}")
    if disagreements:
        with disagreements.open("w") as fh:
            for r in rep.rows:
                if r.klass or not r.ok_original:
                    fh.write(json.dumps(asdict(r), default=str) + "\n")
        typer.echo(f"disagreeing rows: {disagreements}")


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="JSONL file to write (one case per line).")],
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 0,
    stamp: Annotated[str, typer.Option(help="Date stamp YYYY-MM-DD: the notes' 'today'.")] = "2026-01-01",
    per_calculator: Annotated[int, typer.Option(help="Cases per calculator (the last omits a value).")] = 4,
) -> None:
    """Write a fresh medcalc-gen set (note, question, answer, limits, inputs) for any seed and date stamp."""
    import datetime as dt
    from dataclasses import asdict

    from medevals.calculators.generator import generate as gen
    from medevals.errors import ConfigError

    try:
        dt.date.fromisoformat(stamp)
    except ValueError:
        raise ConfigError(f"--stamp {stamp!r} is not a date YYYY-MM-DD") from None
    if per_calculator < 1:
        raise ConfigError("--per-calculator must be at least 1")
    cases = gen(seed, stamp, per_calculator)
    with out.open("w") as fh:
        for c in cases:
            fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    na = sum(c.answer == "N/A" for c in cases)
    typer.echo(f"{len(cases)} cases ({na} 'N/A') for seed {seed}, stamp {stamp}: {out}")
