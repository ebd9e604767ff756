"""``medevals compare runs/a runs/b --judge J``: a judge compares two runs' answers, item by item.

The comparison is itself a run (benchmark ``compare``, protocol ``pairwise`` in ``answers``
mode): its own folder with every judge request and reply, resumable, re-scorable, in the
report and the leaderboard, where its model is ``A vs B`` and its value is A's win rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def compare(
    run_a: Annotated[Path, typer.Argument(help="run folder of model A")],
    run_b: Annotated[Path, typer.Argument(help="run folder of model B")],
    judge: Annotated[str, typer.Option("--judge", "-j", help="judge model(s), comma-separated (a jury)")],
    base_url: Annotated[str | None, typer.Option("--base-url", help="server of openai: judges")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env")] = None,
    criterion: Annotated[
        str, typer.Option("--criterion", help="what 'better' means to the judge")
    ] = "better",
    limit: Annotated[int | None, typer.Option("--limit", help="first N pairs")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c")] = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir")] = Path("runs"),
    seed: Annotated[int, typer.Option("--seed")] = 0,
    new: Annotated[
        bool, typer.Option("--new", help="a new run folder even if this comparison exists")
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
    cache: Annotated[Path | None, typer.Option("--cache")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report")] = True,
    allow_errors: Annotated[bool, typer.Option("--allow-errors")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Judge two runs against each other: both orders per item, A's win rate with a CI.

    Example:

        medevals compare runs/A runs/B --judge openai:gpt-4o --base-url https://api.openai.com/v1
    """
    from medevals.benchmarks.pairs import compare_benchmark
    from medevals.cli import _finish
    from medevals.commands.progress import exit_if_incomplete, progress_runner
    from medevals.errors import MedevalsError
    from medevals.evaluate import RunConfig, command_line, prepare
    from medevals.schema import ModelRecord

    if limit is not None and limit < 1:
        raise MedevalsError("--limit must be at least 1")
    bench = compare_benchmark(run_a, run_b)
    roles = {f"judge:{i}": j.strip() for i, j in enumerate(x for x in judge.split(",") if x.strip())}
    if not roles:
        raise MedevalsError("--judge names no model")
    cfg = RunConfig(
        model="",
        benchmarks=[bench],
        base_url=base_url,
        api_key_env=api_key_env,
        roles=roles,
        options={"criterion": criterion},
        limit=limit,
        seed=seed,
        concurrency=concurrency,
        runs_dir=runs_dir,
        new=new,
        use_cache=not no_cache,
        cache_path=cache,
        command=command_line(),
    )
    prepared = prepare(cfg)
    a, b = (p.read_manifest().model for p in _folders(run_a, run_b))
    # The leaderboard reads the run's model: here the pair, A first.
    prepared.model = ModelRecord(spec=f"{a.spec} vs {b.spec}", backend="none", name=f"{a.name} vs {b.name}")
    outcome = progress_runner(cfg, quiet, prepared)
    _finish(outcome, report=report, quiet=quiet)
    exit_if_incomplete([outcome], allow_errors)


def _folders(*paths: Path):
    from medevals.runs.folder import RunFolder

    return [RunFolder.open(p) for p in paths]
