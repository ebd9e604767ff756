"""The ``medevals`` command: parse options, call into the package, print. No logic lives here.

Imports of the engine, datasets and model backends happen inside commands, so ``--help``
and ``list`` start in a fraction of a second.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medevals import __version__
from medevals.commands import executor_options as xo
from medevals.commands import startup
from medevals.commands.output import err, out, print_error
from medevals.commands.progress import exit_if_incomplete, progress_runner
from medevals.errors import MedevalsError

if TYPE_CHECKING:
    from medevals.evaluate import RunOutcome

app = typer.Typer(
    name="medevals",
    help=(
        "Evaluate language models on medical benchmarks: numbers with confidence intervals, every raw "
        "response on disk, and a report you can hand on.\n\n"
        "Start with `medevals demo` (embedded model, no network), `medevals list` (benchmarks), then "
        "`medevals run --model openai:NAME --base-url http://127.0.0.1:8000/v1 --benchmark medqa`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
BUILTIN_DEFAULT = "builtin:gemma3-270m"
ALLOW_ERRORS_HELP = (
    "Exit 0 even when some samples failed for good (the run stays 'incomplete'; rerunning retries them)."
)


def _version(value: bool) -> None:
    if value:
        out.print(f"medevals {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    if ctx.invoked_subcommand not in startup.RESUMED_BY_ENGINE:
        startup.resume()


def _parse_set(pairs: list[str]) -> dict[str, Any]:
    import yaml

    opts: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise MedevalsError(f"--set '{pair}': expected KEY=VALUE (e.g. --set context=false)")
        k, v = pair.split("=", 1)
        if not k.strip():
            raise MedevalsError(f"--set '{pair}': empty KEY (expected KEY=VALUE, e.g. --set context=false)")
        try:
            opts[k.strip().replace("-", "_")] = yaml.safe_load(v) if v else ""
        except yaml.YAMLError:
            opts[k.strip().replace("-", "_")] = v
    return opts


def _finish(outcome: RunOutcome, report: bool, quiet: bool) -> None:
    from medevals.report.table import run_table, skipped_lines, usage_lines

    compact = out.width < 110
    out.print(run_table(outcome.metrics, compact=compact))
    for line in skipped_lines(outcome.metrics):
        out.print(line, highlight=False)
    from medevals.report.extra_tables import terminal_tables

    for extra in terminal_tables(outcome.metrics):
        out.print(extra)
    if compact:
        for line in usage_lines(outcome.metrics):
            out.print(line, highlight=False)
    s = outcome.stats
    if not quiet:
        err.print(
            f"calls {s.calls} (sent {s.sent}, cache hits {s.cache_hits}, replayed {s.replayed}, "
            f"retries {s.retries}, failed {s.failures})",
            style="dim",
        )
    if report:
        from medevals.report.html import write_report

        path = write_report([outcome.folder], outcome.folder.report_path)
        out.print(f"report: {path}")
    out.print(f"run folder: {outcome.folder.path}")


@app.command()
def demo(
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the response cache.")
    ] = False,
    concurrency: Annotated[
        int | None, typer.Option(help="Parallel requests: llama.cpp slots (default 1, at most 8).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    allow_errors: Annotated[bool, typer.Option("--allow-errors", help=ALLOW_ERRORS_HELP)] = False,
) -> None:
    """Run the embedded default model (Gemma 3 270M, in-process) on the bundled 40-question set.

    Needs no network and no data: checks the install end to end and writes a run folder with a
    report.html. The model is tiny and near chance on medicine; the numbers prove the plumbing.
    """
    from medevals.evaluate import RunConfig, command_line

    cfg = RunConfig(
        model=BUILTIN_DEFAULT,
        benchmarks=["demo"],
        limit=limit,
        runs_dir=runs_dir,
        use_cache=not no_cache,
        concurrency=concurrency,
        command=command_line(),
        new=True,
    )
    outcome = progress_runner(cfg, quiet)
    _finish(outcome, report=True, quiet=quiet)
    exit_if_incomplete([outcome], allow_errors)
    out.print(
        "Gemma 3 270M (base) is a plumbing check, near chance on medicine: this number is not a result. "
        "Next: `medevals run -m openai:NAME --base-url URL -b medqa`.",
        style="dim",
    )


@app.command("list")
def list_benchmarks(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    data_dir: Annotated[
        str | None, typer.Option(help="Check which benchmarks have a local folder here ($MEDEVALS_DATA).")
    ] = None,
) -> None:
    """List benchmarks: task type, size, taxonomy category, source, licence, local data."""
    import json

    from rich.table import Table

    from medevals.benchmarks.base import data_root
    from medevals.benchmarks.registry import all_benchmarks

    root = data_root(data_dir)
    rows = []
    for b in all_benchmarks():
        if b.bundled_dir is not None:
            local = "bundled"
        elif root is not None:
            local = "yes" if (root / (b.local_dir or b.name)).is_dir() else "no"
        else:
            local = "-"
        rows.append(
            {
                "name": b.name,
                "title": b.title,
                "protocol": b.protocol,
                "task_type": b.task_type,
                "size": b.size,
                "splits": b.splits,
                "default_split": b.default_split,
                "category": b.taxonomy.category,
                "subcategory": b.taxonomy.subcategory,
                "license": b.license,
                "source": b.source,
                "hub": b.hub.path if b.hub else None,
                "local": local,
            }
        )
    if as_json:
        out.print_json(json.dumps(rows))
        return
    columns = ("name", "task", "items", "category", "data")
    table_rows = []
    for r in rows:
        where = r["local"] if r["local"] == "bundled" else f"local:{r['local']}"
        if r["hub"]:
            where += f" · hub:{r['hub']}"
        extra = [k for k in r["splits"] if k != r["default_split"]]
        size = r["size"] or "?"  # 0: not known before the data is loaded (a file not staged, a spec)
        items = f"{size} ({r['default_split']})" + (f" +{len(extra)} splits" if extra else "")
        table_rows.append((r["name"], r["task_type"], items, r["category"], where))
    hint = "local data: set MEDEVALS_DATA or pass --data-dir to see which folders are present"
    if not out.is_terminal:
        # Piped or redirected: one tab-separated line per benchmark, never wrapped, so
        # `medevals list | grep NAME` and `cut -f1` work; the hint goes to stderr.
        sys.stdout.write("".join("\t".join(row) + "\n" for row in [columns, *table_rows]))
        if root is None:
            err.print(hint)
        return
    t = Table(title="medevals benchmarks (--json adds sources and licences)", title_justify="left")
    for col in columns:
        # a name is never broken across lines (it is what users copy); other columns fold
        t.add_column(col, no_wrap=col == "name", overflow="fold")
    for row in table_rows:
        t.add_row(*row)
    out.print(t)
    if root is None:
        out.print(hint, style="dim")


@app.command()
def run(
    benchmark: Annotated[
        str,
        typer.Option(
            "--benchmark", "-b", help="Comma-separated names (NAME or NAME:SPLIT) or spec.yaml paths."
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="builtin:gemma3-270m | openai:NAME | hf:PATH | vllm:PATH (not needed for retrieval).",
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            help="Env var holding the API key (default OPENAI_API_KEY). Keys are never written to disk."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N items of each benchmark.")] = None,
    split: Annotated[
        str | None, typer.Option(help="Split for every benchmark (default: each one's test split).")
    ] = None,
    repeats: Annotated[int, typer.Option(help="Run each item N times (for sampling variance).")] = 1,
    seed: Annotated[int, typer.Option(help="Seed for few-shot selection and any sampling.")] = 0,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            help="Requests in flight (default 8; builtin: and hf: models 1, which keeps results "
            "bit-identical; -c N opens N builtin llama.cpp slots, at most 8).",
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Strategies/probes, comma-separated; parts join with '+': zero-shot, 3shot, knn5, cot, sc5, "
            "shuffle5, conf (e.g. knn5+cot+sc5); probes, perturbations (see README)."
        ),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option(
            help="Agent systems run beside the strategies, comma-separated: medagents, mdagents, debate "
            "(debate:AxR), voteN, or a system .yaml path (see README, Agent systems)."
        ),
    ] = None,
    shots: Annotated[int | None, typer.Option(help="Examples for the few-shot strategy (default 5).")] = None,
    mode: Annotated[
        str | None, typer.Option(help="auto | generate | likelihood (logprob of each option letter).")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Completion token limit.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature (default 0).")] = None,
    judge: Annotated[
        str | None, typer.Option(help="Judge model(s), comma-separated specs (SPEC or SPEC@URL).")
    ] = None,
    patient_model: Annotated[
        str | None, typer.Option(help="Patient-simulator model spec (interactive benchmarks).")
    ] = None,
    measurement_model: Annotated[
        str | None,
        typer.Option(help="Measurement-reader model spec (AgentClinic tests); default: the patient model."),
    ] = None,
    embedder: Annotated[
        str | None,
        typer.Option(help="Embedding model spec (retrieval, kNN few-shot); default builtin:minilm."),
    ] = None,
    max_turns: Annotated[
        int | None, typer.Option(help="Turn limit for interactive and agent protocols.")
    ] = None,
    retriever: Annotated[
        str | None, typer.Option(help="Retrievers, comma-separated: bm25, dense, hybrid.")
    ] = None,
    rag: Annotated[
        str | None, typer.Option(help="Retrieval-augmented answering with this retriever.")
    ] = None,
    corpus: Annotated[
        str | None, typer.Option(help="Corpus folder for --rag (BEIR layout: corpus.jsonl).")
    ] = None,
    tools: Annotated[str | None, typer.Option(help="Tools offered to the model (e.g. calculators).")] = None,
    fhir_base_url: Annotated[
        str | None, typer.Option(help="Run EHR-agent tasks against this FHIR server instead of the sandbox.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Protocol option KEY=VALUE (repeatable), e.g. --set context=false."),
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="Folder with benchmark data (default $MEDEVALS_DATA, else the HF hub).")
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    resume: Annotated[
        Path | None, typer.Option(help="Resume this run folder. (Re-running the same command resumes too.)")
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new", help="Start a new run folder even if an identical run is unfinished or in progress."
        ),
    ] = False,
    allow_errors: Annotated[bool, typer.Option("--allow-errors", help=ALLOW_ERRORS_HELP)] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the response cache.")
    ] = False,
    cache: Annotated[
        Path | None, typer.Option(help="Response cache file (default ~/.cache/medevals/cache.sqlite).")
    ] = None,
    prices: Annotated[
        Path | None, typer.Option(help="TOML price table: [model] input=USD/1M, output=USD/1M.")
    ] = None,
    price_in: Annotated[float | None, typer.Option(help="USD per 1M input tokens for --model.")] = None,
    price_out: Annotated[float | None, typer.Option(help="USD per 1M output tokens for --model.")] = None,
    timeout: Annotated[
        float, typer.Option(help="Total seconds per attempt (connect + whole reply) before retrying.")
    ] = 300.0,
    max_retries: Annotated[int, typer.Option(help="Retries per request on 429/5xx/timeouts.")] = 5,
    max_response_mb: Annotated[
        float, typer.Option(help="Largest reply body in MiB; a longer one is retried as a fault.")
    ] = 32.0,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html into the run folder.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    executor: xo.Executor = "local",
    ray_address: xo.RayAddress = None,
    ray_workers: xo.RayWorkers = 1,
    ray_num_cpus: xo.RayCpus = 1.0,
    ray_num_gpus: xo.RayGpus = 0.0,
) -> None:
    """Evaluate one model on one or more benchmarks; writes a run folder (manifest, samples, metrics, report).

    Examples:

        medevals run -m builtin:gemma3-270m -b medqa --limit 50

        medevals run -m openai:llama3 --base-url http://127.0.0.1:8080/v1 -b pubmedqa,medmcqa -c 32

        medevals run -m openai:gpt-4o-mini --base-url https://api.openai.com/v1 -b medqa --strategy zero-shot,cot --price-in 0.15 --price-out 0.6

        medevals run -m openai:NAME --base-url URL -b medagentsbench --system medagents,debate,vote5 --strategy zero-shot
    """
    from medevals.engine.client import retry_policy
    from medevals.engine.costs import PriceTable, check_price
    from medevals.evaluate import RunConfig, command_line
    from medevals.models.registry import parse_spec

    retry = retry_policy(timeout=timeout, max_retries=max_retries, max_response_mb=max_response_mb)
    ray = xo.ray_options(executor, ray_address, ray_workers, ray_num_cpus, ray_num_gpus)
    options = _parse_set(set_ or [])
    for key, val in (
        ("strategy", strategy),
        ("system", system),
        ("shots", shots),
        ("mode", mode),
        ("max_tokens", max_tokens),
        ("temperature", temperature),
        ("max_turns", max_turns),
        ("retriever", retriever),
        ("rag", rag),
        ("corpus", corpus),
        ("tools", tools),
        ("fhir_base_url", fhir_base_url),
    ):
        if val is not None:
            options[key] = val
    table = PriceTable.load(prices) if prices else PriceTable()
    if (price_in is None) != (price_out is None):
        raise MedevalsError("--price-in and --price-out go together")
    if price_in is not None and price_out is not None and model:
        table.set(
            parse_spec(model)[1], check_price(price_in, "--price-in"), check_price(price_out, "--price-out")
        )
    roles: dict[str, str] = {}
    if judge:
        for i, j in enumerate(x.strip() for x in judge.split(",") if x.strip()):
            roles[f"judge:{i}"] = j
    if patient_model:
        roles["patient"] = patient_model
    if measurement_model:
        roles["measurement"] = measurement_model
    if embedder:
        roles["embedder"] = embedder
    if repeats < 1:
        raise MedevalsError("--repeats must be at least 1")
    if limit is not None and limit < 1:
        raise MedevalsError("--limit must be at least 1")
    cfg = RunConfig(
        model=model or "",
        benchmarks=[b.strip() for b in benchmark.split(",") if b.strip()],
        base_url=base_url,
        api_key_env=api_key_env,
        roles=roles,
        options=options,
        data_dir=data_dir,
        split=split,
        limit=limit,
        repeats=repeats,
        seed=seed,
        concurrency=concurrency,
        runs_dir=runs_dir,
        resume=resume,
        new=new,
        use_cache=not no_cache,
        cache_path=cache,
        prices=table,
        retry=retry,
        command=command_line(),
    )
    outcome = progress_runner(cfg, quiet, ray=ray)
    if model and outcome.manifest.model.backend == "none":
        err.print(
            f"note: no benchmark in this run asks a model anything; --model {model} was not loaded",
            style="dim",
        )
    _finish(outcome, report=report, quiet=quiet)
    exit_if_incomplete([outcome], allow_errors)


@app.command()
def rescore(
    runs: Annotated[list[Path], typer.Argument(help="Run folders.")],
    report: Annotated[bool, typer.Option("--report/--no-report")] = True,
) -> None:
    """Recompute scores and metrics from stored responses (no model, no data needed)."""
    from medevals.report.table import run_table, skipped_lines
    from medevals.runs.folder import RunFolder
    from medevals.runs.rescore import rescore as do_rescore

    for path in runs:
        folder = RunFolder.open(path)
        metrics = do_rescore(folder)
        out.print(run_table(metrics))
        for line in skipped_lines(metrics):
            out.print(line, highlight=False)
        from medevals.report.extra_tables import terminal_tables

        for extra in terminal_tables(metrics):
            out.print(extra)
        out.print(f"{folder.path}: {metrics.get('rescored_changed', 0)} sample score(s) changed")
        if report:
            from medevals.report.html import write_report

            write_report([folder], folder.report_path)


@app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to show side by side.")],
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="HTML file (default: report.html in the run folder, or ./report.html for several runs).",
        ),
    ] = None,
    samples: Annotated[int, typer.Option(help="Samples shown per run in the HTML sample browser.")] = 200,
) -> None:
    """Side-by-side table in the terminal and one self-contained HTML file.

    With several runs, each run after the first is paired with the first on the items both
    scored: the difference of every metric with its 95% CI, McNemar's test for accuracy, and
    the items only one of them got right (listed in the HTML report, each with both samples).
    """
    from medevals.report.html import write_report
    from medevals.report.table import compare_table, run_table
    from medevals.runs.folder import RunFolder

    if samples < 0:
        raise MedevalsError("--samples must be 0 or more")
    folders = [RunFolder.open(p) for p in runs]
    for f in folders:  # a damaged run folder is an error, not a report with a quiet banner
        f.read_manifest()
        f.check_samples(parse_first=samples)
    from medevals.runs.rescore import current_metrics

    metrics = [(f.path.name, current_metrics(f)) for f in folders]
    if len(folders) == 1:
        out.print(run_table(metrics[0][1]))
        from medevals.report.extra_tables import terminal_tables

        for extra in terminal_tables(metrics[0][1]):
            out.print(extra)
    else:
        out.print(compare_table(metrics))
        _print_pairs(folders)
    target = out_file or (folders[0].report_path if len(folders) == 1 else Path("report.html"))
    path = write_report(folders, target, max_samples=samples)
    out.print(f"report: {path}")


def _print_pairs(folders: list[Any]) -> None:
    """Each run after the first paired with the first (A, the baseline) on their shared items."""
    from medevals.report.paired import pair_output
    from medevals.runs.paired_runs import compare_runs

    for other in folders[1:]:
        pair = compare_runs(folders[0], other)
        for x in pair_output(pair, folders[0].path.name, other.path.name, out.width):
            out.print(x, highlight=False, markup=False, soft_wrap=True)


from medevals.commands.results import leaderboard as _leaderboard  # noqa: E402

app.command("leaderboard")(_leaderboard)
app.add_typer(__import__("medevals.commands.suite", fromlist=["app"]).app, name="suite")
# calculators (mcp)
app.add_typer(__import__("medevals.commands.calculators", fromlist=["app"]).app, name="calculators")
app.add_typer(__import__("medevals.commands.mcp", fromlist=["app"]).app, name="mcp")

# judged (agreement)
app.command("agreement")(__import__("medevals.commands.agreement", fromlist=["agreement"]).agreement)

# pairwise judging of two runs
app.command("compare")(__import__("medevals.commands.compare", fromlist=["compare"]).compare)

# agent in an EHR (fhir)
app.add_typer(__import__("medevals.commands.fhir", fromlist=["app"]).app, name="fhir")


def main() -> None:
    # click's exception classes, found through a public typer name: typer vendors click in
    # recent versions (typer._click) and depends on click in older ones
    mro = typer.BadParameter.__mro__
    usage_error = next(c for c in mro if c.__name__ == "UsageError")
    click_exception = next(c for c in mro if c.__name__ == "ClickException")
    startup.pause()  # until the command's work begins (commands/startup.py)
    try:
        # not standalone: a usage error comes back here, to be printed as one line
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except usage_error as e:  # `--limit abc`, an unknown option or command
        if type(e).__name__ == "NoArgsIsHelpError":  # `medevals` alone (or a group): its help
            from typer import rich_utils

            rich_utils.rich_format_error(e)
        else:
            ctx = getattr(e, "ctx", None)
            where = ctx.command_path if ctx is not None else "medevals"
            print_error(f"{e.format_message()} (see `{where} --help`)")
        sys.exit(e.exit_code)
    except click_exception as e:
        print_error(e.format_message())
        sys.exit(e.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except MedevalsError as e:
        from medevals.errors import Interrupted

        if isinstance(e, Interrupted):  # its own line, "interrupted (SIGINT): N of M samples saved ..."
            err.print(" ".join(str(e).split("\n")), markup=False, highlight=False, soft_wrap=True)
        else:
            print_error(str(e))
        sys.exit(e.exit_code)
    except BrokenPipeError:
        # `medevals list | head`: the reader left; say nothing, and keep the interpreter's final
        # flush of stdout from failing again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as e:
        # A full disk, a read-only or missing path: the environment, not a bug, so one line.
        from medevals.errors import os_error_message

        print_error(os_error_message(e))
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted: finished samples are saved; run the same command again to resume")
        sys.exit(130)
    finally:
        # Every file the command wrote is closed by now. Interpreter shutdown would still run a
        # full cyclic GC over the ~50,000 objects the imports made (~45 ms, a
        # tenth of a short run's overhead); freezing them skips that pass, nothing else.
        gc.freeze()
        gc.enable()  # paused at start-up; a caller in the same process (tests) collects again


if __name__ == "__main__":
    main()
