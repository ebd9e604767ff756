"""Running an evaluation: benchmarks -> protocols -> (models via the engine) -> scores -> run folder.

``prepare`` resolves everything that can fail on bad input (benchmarks, data, options,
models, prices) before a single call is made. ``execute`` runs the units with bounded
concurrency, streams each finished sample to disk, and on any interruption leaves a run
folder that the same command resumes without repeating a finished call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import medevals
from medevals.benchmarks import base as bench_base
from medevals.benchmarks import registry as bench_registry
from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.item_store import ItemStore
from medevals.engine.cache import ResponseCache, default_cache_path
from medevals.engine.client import CallFailed, CallStats, ModelClient, RetryPolicy
from medevals.engine.costs import PriceTable
from medevals.engine.journal import Journal
from medevals.engine.keys import canonical_json
from medevals.errors import ConfigError, Interrupted, MedevalsError, ModelError, RunError, StorageError
from medevals.extras import require as require_extra
from medevals.images.capability import check_image_support
from medevals.images.store import ImageStore
from medevals.models.registry import IN_PROCESS, create_backend, make_record
from medevals.protocols.base import Protocol, SolveContext
from medevals.protocols.registry import get_protocol, protocol_from_record, resolve_protocol
from medevals.runs.folder import MANIFEST, RunFolder, benchmarks_slug, runs_dir_lock, slug
from medevals.schema import BenchmarkRecord, Item, ModelRecord, RunManifest, Sample, Unit

if TYPE_CHECKING:
    from medevals.engine.ray_executor import RayExecutor, RaySession
from medevals.scoring.metrics import Aggregator

#: The model record of a run whose protocols call no model under test (retrieval).
NO_MODEL = ModelRecord(spec="none", backend="none", name="none")


@dataclass
class RunConfig:
    model: str
    #: Names (``medqa``, ``medqa:dev``, ``spec.yaml``) or benchmarks built by a command
    #: (``medevals compare`` builds one from two run folders).
    benchmarks: list[str | Benchmark]
    base_url: str | None = None
    api_key_env: str | None = None
    model_settings: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None
    split: str | None = None
    limit: int | None = None
    repeats: int = 1
    seed: int = 0
    concurrency: int | None = None
    runs_dir: Path = Path("runs")
    resume: Path | None = None
    new: bool = False
    use_cache: bool = True
    cache_path: Path | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    command: list[str] = field(default_factory=list)


@dataclass
class PreparedBenchmark:
    bench: Benchmark
    protocol: Protocol
    items: ItemStore
    fewshot: list[Item]
    record: BenchmarkRecord


@dataclass
class Prepared:
    cfg: RunConfig
    benchmarks: list[PreparedBenchmark]
    model: ModelRecord
    roles: dict[str, ModelRecord]
    config_hash: str
    concurrency: int
    #: Flags the run ignores (a judge no benchmark asks ...): one line each, printed and recorded
    #: in the manifest's ``stats.warnings`` when the run starts.
    warnings: list[str] = field(default_factory=list)


def _split_name(spec: str) -> tuple[str, str | None]:
    if spec.endswith((".yaml", ".yml")):
        return spec, None
    if ":" in spec:
        name, split = spec.rsplit(":", 1)
        return name, split
    return spec, None


def _parse_role_spec(spec: str) -> tuple[str, str | None]:
    """``openai:NAME@http://host:port/v1`` -> (spec, base_url); lets judges/patients live elsewhere."""
    if "@http://" in spec or "@https://" in spec:
        name, url = spec.split("@", 1)
        return name, url
    return spec, None


def prepare(cfg: RunConfig) -> Prepared:
    if not cfg.benchmarks:
        raise ConfigError("no benchmark given: pass --benchmark NAME[,NAME...] (see `medevals list`)")
    model = (
        make_record(
            cfg.model, base_url=cfg.base_url, api_key_env=cfg.api_key_env, settings=cfg.model_settings
        )
        if cfg.model
        else NO_MODEL
    )
    roles: dict[str, ModelRecord] = {}
    # a role no benchmark of the run uses is a warning, not its spec's error (a judge without a
    # server on a benchmark without judging): the error is raised only if the role is used
    role_errors: dict[str, ConfigError] = {}
    for role, spec in cfg.roles.items():
        rspec, url = _parse_role_spec(spec)
        same_server = rspec.startswith("openai:") and url is None
        try:
            roles[role] = make_record(
                rspec, base_url=url or (cfg.base_url if same_server else None), api_key_env=cfg.api_key_env
            )
        except ConfigError as e:
            roles[role], role_errors[role] = NO_MODEL, e
    # llama.cpp's batched slots are not bit-deterministic (30.0% vs 25.0% on the demo across two
    # runs with 4 slots; identical with 1), so the builtin model defaults to one slot: -c 4 opts in.
    default_conc = 1 if model.backend in ("builtin", "hf") else 8
    concurrency = default_conc if cfg.concurrency is None else cfg.concurrency
    if concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")

    used_options: set[str] = set()
    ignored: list[str] = []
    prepared: list[PreparedBenchmark] = []
    seen: set[str] = set()
    for spec in cfg.benchmarks:
        if isinstance(spec, Benchmark):
            bench, split = spec, None
        else:
            name, split = _split_name(spec)
            bench = bench_registry.get(name)
        if bench.name in seen:
            raise ConfigError(f"benchmark '{bench.name}' given twice")
        seen.add(bench.name)
        proto_name = resolve_protocol(bench.protocol, cfg.options)
        proto_cls = get_protocol(proto_name)
        for extra in proto_cls.extras:
            require_extra(extra, f"benchmark '{bench.name}' ({proto_name} protocol)")
        fields = proto_cls.Options.model_fields
        user = {k: v for k, v in cfg.options.items() if k in fields}
        used_options.update(user)
        opts = proto_cls.parse_options({**bench.options, **user}, where=f"benchmark '{bench.name}'")
        protocol = proto_cls(opts, bench)
        ignored.extend(f"{bench.name}: {w}" for w in protocol.ignored_options(set(user)))
        for role, spec in protocol.default_roles().items():
            if role not in roles:
                rspec, url = _parse_role_spec(spec)
                roles[role] = make_record(rspec, base_url=url)
        for role, source in proto_cls.role_fallbacks.items():
            if role not in roles and source in roles:
                roles[role] = roles[source]
        for role in proto_cls.roles:
            needed = [r for r in roles if r == role or r.startswith(role + ":")]
            if not needed and getattr(opts, f"requires_{role}", False):
                raise ConfigError(f"benchmark '{bench.name}' needs a {role} model (pass --{role} SPEC)")
        load_opts = {k: cfg.options[k] for k in bench.load_options if k in cfg.options}
        used_options.update(load_opts)
        data = bench_base.load(bench, split or cfg.split, cfg.data_dir, seed=cfg.seed, options=load_opts)
        items = data.items[: cfg.limit] if cfg.limit else data.items
        fewshot: list[Item] = []
        fewshot_source = ""
        if protocol.uses_fewshot():
            if bench.fewshot_split and bench.fewshot_split != data.split:
                # a list: the pool is scanned for every item (exclusion, kNN), never re-decoded
                fewshot = list(bench_base.load(bench, bench.fewshot_split, cfg.data_dir).items)
                fewshot_source = f"split '{bench.fewshot_split}'"
            else:
                fewshot = list(data.items)
                fewshot_source = (
                    f"same split '{data.split}' (item itself excluded; no separate train split available)"
                )
        options_record = {**opts.model_dump(), **load_opts}
        if fewshot_source:
            options_record["fewshot_source"] = fewshot_source
        record = BenchmarkRecord(
            name=bench.name,
            protocol=proto_name,
            task_type=bench.task_type,
            split=data.split,
            n_items=len(items),
            data_source=data.source,
            data_hash=data.data_hash,
            taxonomy=bench.taxonomy,
            license=bench.license,
            source=bench.source,
            options=options_record,
            templates=protocol.templates(),
            variants=protocol.variants(),
            skipped=data.skipped,
        )
        prepared.append(PreparedBenchmark(bench, protocol, items, fewshot, record))
    warnings = [*ignored, *_unused_roles(cfg, prepared, roles)]
    for role, error in role_errors.items():
        if role in roles:
            raise error
    if not any(pb.protocol.needs_candidate for pb in prepared):
        model = NO_MODEL  # e.g. retrieval: a given --model is not loaded, and runs with or without it match
        concurrency = 8 if cfg.concurrency is None else concurrency
    elif not cfg.model:
        need = next(pb.bench.name for pb in prepared if pb.protocol.needs_candidate)
        raise ConfigError(f"benchmark '{need}' puts items to a model: pass --model SPEC")
    unused = sorted(set(cfg.options) - used_options)
    if unused:
        raise ConfigError(f"option(s) {', '.join(unused)} are not used by any benchmark in this run")
    if "replay" in (
        model.backend,
        *(r.backend for r in roles.values()),
    ):  # recorded outputs: checked before any work
        from medevals.models.replay import check_run

        check_run(
            model,
            [(pb.bench.name, pb.protocol, pb.items, pb.record.variants) for pb in prepared],
            cfg.repeats,
            roles,
        )
    material = {
        "model": model.model_dump(exclude={"base_url"}),
        "roles": {k: v.model_dump(exclude={"base_url"}) for k, v in roles.items()},
        "benchmarks": [p.record.model_dump(exclude={"templates"}) for p in prepared],
        "seed": cfg.seed,
        "repeats": cfg.repeats,
        "limit": cfg.limit,
    }
    config_hash = hashlib.sha256(canonical_json(material).encode()).hexdigest()[:16]
    return Prepared(cfg, prepared, model, roles, config_hash, concurrency, warnings)


def _tool_warnings(p: Prepared, candidate: Any) -> list[str]:
    """``--tools`` given to a model that cannot call tools (``ModelBackend.accepts_tools``)."""
    if candidate is None or getattr(candidate, "accepts_tools", None) is not False:
        return []
    return [
        f"--tools {tools}: {p.model.spec} cannot call tools; {pb.bench.name} offers them and reads its "
        "plain-text answers"
        for pb in p.benchmarks
        if (tools := getattr(pb.protocol.options, "tools", None))
    ]


#: The flag that names each model role, for the warning that says it is not used.
ROLE_FLAGS = {
    "judge": "--judge",
    "patient": "--patient-model",
    "measurement": "--measurement-model",
    "embedder": "--embedder",
}


def _system_roles(options: Any) -> set[str]:
    """Run roles the agent systems of a benchmark call (a user system's referee answered by ``judge:0``)."""
    return {
        r.model.split(":", 1)[0]
        for spec in getattr(options, "system", None) or []
        for r in spec.roles.values()
    }


def _unused_roles(
    cfg: RunConfig, prepared: list[PreparedBenchmark], roles: dict[str, ModelRecord]
) -> list[str]:
    """Drop the roles the user named that no benchmark of the run uses, one warning per flag.

    A judge on a benchmark without judging would otherwise be loaded (or connected to) and
    recorded in the manifest as if it had judged; dropping it makes the run the same as one
    without the flag (same config hash: a rerun with or without it resumes the same folder).
    """
    used: set[str] = set()
    for pb in prepared:
        used.update(type(pb.protocol).roles)
        used.update(r.split(":", 1)[0] for r in pb.protocol.default_roles())
        used.update(_system_roles(pb.protocol.options))
    unused: dict[str, list[str]] = {}
    for role, spec in cfg.roles.items():
        base = role.split(":", 1)[0]
        if base not in used:
            # the spec without its @URL: a URL may carry a key (http://user:key@host), never printed
            unused.setdefault(base, []).append(_parse_role_spec(spec)[0])
            roles.pop(role, None)
    names = ", ".join(pb.bench.name for pb in prepared)
    return [
        f"{ROLE_FLAGS.get(base, base)} {','.join(specs)}: no benchmark in this run uses a {base} model "
        f"({names}); ignored"
        for base, specs in unused.items()
    ]


def _git_sha() -> str | None:
    try:
        here = Path(medevals.__file__).resolve().parent
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _same_config(runs_dir: Path, config_hash: str) -> list[tuple[RunFolder, RunManifest]]:
    """Run folders of this configuration, newest first."""
    if not runs_dir.is_dir():
        return []
    found = []
    for mpath in runs_dir.glob(f"*/{MANIFEST}"):
        folder = RunFolder(mpath.parent)
        try:
            m = folder.read_manifest()
        except RunError:
            continue
        if m.config_hash == config_hash:
            found.append((m.created_at, mpath.parent.name, folder, m))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [(f, m) for _, _, f, m in found]


def _finished(folder: RunFolder, m: RunManifest) -> bool:
    """Complete, and its metrics.json was computed from the samples as they are (a run killed
    between marking itself complete and writing metrics is finished by re-scoring, not re-running)."""
    return m.status == "complete" and folder.metrics_current()


def find_resumable(runs_dir: Path, config_hash: str) -> RunFolder | None:
    """The newest unfinished run with the same configuration, so re-running a command resumes it."""
    return next((f for f, m in _same_config(runs_dir, config_hash) if not _finished(f, m)), None)


def find_complete(runs_dir: Path, config_hash: str) -> RunFolder | None:
    """The newest finished run with the same configuration (``suite run`` reuses it)."""
    return next((f for f, m in _same_config(runs_dir, config_hash) if _finished(f, m)), None)


_BUSY_HINT = "wait for it to finish, or pass --new to start a separate run folder"


def open_run_folder(p: Prepared) -> tuple[RunFolder, RunManifest, bool]:
    """The folder this run writes, locked for this process; its manifest says ``running``.

    Resume or create happens under a lock on the runs directory, so two identical commands
    started together cannot both miss each other: the second finds the first's folder held
    and says by whom (``FolderBusy``), unless ``--new`` gives it a folder of its own.
    """
    cfg = p.cfg
    if cfg.resume is not None:
        RunFolder.open(cfg.resume)  # not a run folder: say so before creating or locking anything
    runs_dir = cfg.resume.parent if cfg.resume is not None else cfg.runs_dir
    with runs_dir_lock(runs_dir):
        folder: RunFolder | None = None
        if cfg.resume is not None:
            folder = RunFolder.open(cfg.resume)
            manifest = folder.read_manifest()
            if manifest.config_hash != p.config_hash:
                raise RunError(
                    f"{folder.path}: was started with a different configuration (model, benchmarks, options, "
                    f"seed or limit differ); run without --resume to start a new run"
                )
            folder.lock(cfg.command, hint="wait for it to finish")
        elif not cfg.new:
            unfinished = [f for f, m in _same_config(cfg.runs_dir, p.config_hash) if not _finished(f, m)]
            for f in unfinished:
                if f.live_holder() is not None:  # one identical run at a time: no duplicate paid calls
                    f.lock(cfg.command, hint=_BUSY_HINT)  # raises FolderBusy naming the holder
            if unfinished:
                folder = unfinished[0]
                folder.lock(cfg.command, hint=_BUSY_HINT)
        if folder is not None:
            manifest = folder.read_manifest()
            manifest.status = "running"
            manifest.command = cfg.command
            try:
                folder.write_manifest(manifest)
            except BaseException:
                folder.unlock()
                raise
            return folder, manifest, True
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = (
            f"{stamp}-{slug(p.model.name.split('@')[0], 30)}-"
            f"{benchmarks_slug([b.bench.name for b in p.benchmarks], 40)}"
        )
        path = cfg.runs_dir / name
        n = 1
        while path.exists():
            n += 1
            path = cfg.runs_dir / f"{name}-{n}"
        folder = RunFolder(path)
        folder.create()
        manifest = RunManifest(
            run_id=path.name,
            medevals_version=medevals.__version__,
            git_sha=_git_sha(),
            command=cfg.command,
            created_at=_now(),
            model=p.model,
            roles=p.roles,
            benchmarks=[b.record for b in p.benchmarks],
            seed=cfg.seed,
            repeats=cfg.repeats,
            limit=cfg.limit,
            concurrency=p.concurrency,
            prices={k: v.model_dump() for k, v in cfg.prices.prices.items()},
            platform={
                "python": platform.python_version(),
                "system": platform.platform(),
                "machine": platform.machine(),
            },
            config_hash=p.config_hash,
            options=dict(cfg.options),
        )
        try:
            folder.lock(cfg.command)
            folder.write_manifest(manifest)  # at once: an identical command started now finds it
        except BaseException:
            folder.unlock()
            shutil.rmtree(folder.path, ignore_errors=True)
            raise
        return folder, manifest, False


def _remove_if_unused(folder: RunFolder) -> bool:
    """Remove a folder this run created when nothing a resume could use was written."""
    with runs_dir_lock(folder.path.parent):
        if folder.has_work():
            return False
        shutil.rmtree(folder.path, ignore_errors=True)
        return True


ProgressHook = Callable[[int, int, CallStats], None]


@dataclass
class RunOutcome:
    folder: RunFolder
    manifest: RunManifest
    metrics: dict[str, Any]
    resumed: bool
    skipped: int
    stats: CallStats
    #: Units whose latest sample is an error (their calls failed for good): status ``incomplete``.
    failed: int = 0
    total: int = 0
    warnings: list[str] = field(default_factory=list)
    #: The first failed sample's error, for the one line that says why a run is incomplete.
    first_error: str | None = None


class _Stop:
    """SIGINT, SIGTERM and SIGHUP cancel the run's task, so all three end the same way as
    Ctrl-C: whole samples saved, status ``interrupted``, a one-line message, resumable."""

    SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        for sig in self.SIGNALS:
            try:
                previous = signal.getsignal(sig)
                loop.add_signal_handler(sig, self._on_signal, sig, task)
            except (ValueError, RuntimeError, NotImplementedError):
                continue  # not the main thread, or no signals here: nothing to restore
            self._previous[sig] = previous

    def _on_signal(self, sig: int, task: asyncio.Task[Any] | None) -> None:
        if self.signum is None and task is not None:
            self.signum = sig
            task.cancel()

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for sig, previous in self._previous.items():
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()


def _print_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


async def execute(
    p: Prepared,
    *,
    progress: ProgressHook | None = None,
    on_start: Callable[[RunFolder, bool, int, int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    executor: RayExecutor | None = None,
    handle_signals: bool = True,
) -> RunOutcome:
    """Run every unfinished unit, then write metrics and only then the final status.

    ``executor`` None runs the units here (asyncio, ``-c`` at a time); a ``RayExecutor`` runs
    them on Ray workers (``engine/ray_executor.py``) while this process stays the only writer of
    the run folder, its journal and the cache: everything below except who calls the model is
    the same for both. ``handle_signals`` False leaves SIGINT/SIGTERM/SIGHUP to the caller
    (a suite running several runs in one loop cancels them all; each ends ``interrupted``).

    Final status: ``complete`` (every unit scored or unscorable by design), ``incomplete``
    (some units failed for good: the next identical command retries them), ``interrupted``
    (a signal, a full disk, an unreachable model: resumable), ``failed`` (an unexpected error;
    resumable too). The folder stays locked for this process until the end; a folder this run
    created is removed again if nothing a resume could use was written.
    """
    cfg = p.cfg
    # One backend per distinct model spec (a judge that is the candidate shares its server).
    # Created before the run folder: a bad base URL or a missing API key leaves no folder behind.
    backends: dict[str, Any] = {}
    role_backend: dict[str, str] = {}
    for role, record in [("candidate", p.model), *p.roles.items()]:
        if role == "candidate" and record.backend == NO_MODEL.backend:
            continue
        if executor is not None and record.backend in IN_PROCESS:
            continue  # loaded on the Ray workers only (a GPU node's model needs no driver copy)
        key = canonical_json(record.model_dump())
        if key not in backends:
            backends[key] = create_backend(record, concurrency=p.concurrency)
        role_backend[role] = key
    check_image_support(
        p.benchmarks, backends[role_backend["candidate"]] if "candidate" in role_backend else None
    )
    flag_warnings = [*p.warnings, *_tool_warnings(p, backends.get(role_backend.get("candidate", "")))]
    try:
        folder, manifest, resumed = open_run_folder(p)
    except BaseException:
        for b in backends.values():
            with contextlib.suppress(Exception):
                await b.close()
        raise

    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        (on_warning or _print_warning)(message)

    for message in flag_warnings:  # flags the run ignores: said once, kept in the manifest
        warn(message)

    stats = CallStats()
    journal: Journal | None = None
    cache: ResponseCache | None = None
    session: RaySession | None = None
    stop = _Stop()
    total = sum(len(pb.items) * len(pb.record.variants) for pb in p.benchmarks) * cfg.repeats
    skipped = done = failed = 0
    first_error: str | None = None
    failure: BaseException | None = None
    try:
        if handle_signals:
            stop.install()
        folder.repair_tail()
        finished = folder.finished_units() if resumed else set()
        journal = Journal(folder.journal_path, finished_units=frozenset(finished))
        if cfg.use_cache:
            cache = ResponseCache(cfg.cache_path or default_cache_path(), on_error=warn)
        images = ImageStore(folder.path)
        clients = {}
        for role, key in role_backend.items() if executor is None else ():
            clients[role] = ModelClient(
                backends[key],
                role=role,
                concurrency=p.concurrency,
                cache=cache,
                prices=cfg.prices,
                retry=cfg.retry,
                stats=stats,
                journal=journal,
                images=images,
                on_warning=warn,
            )

        def pending() -> Iterator[tuple[PreparedBenchmark, Unit]]:
            """Units not finished yet (never run, or failed before), made as workers take them:
            memory stays flat in the unit count."""
            for pb in p.benchmarks:
                for idx in range(len(pb.items)):
                    item_id = pb.items.id_at(idx)  # no decoding of stored items
                    for variant in pb.record.variants:
                        for r in range(cfg.repeats):
                            u = Unit(
                                benchmark=pb.bench.name,
                                item_index=idx,
                                item_id=item_id,
                                repeat=r,
                                variant=variant,
                            )
                            if u.unit_id not in finished:
                                yield pb, u

        # A fresh run has every unit pending: no pass making `total` Unit objects just to count them.
        n_pending = sum(1 for _ in pending()) if finished else total
        skipped = done = total - n_pending
        if n_pending and executor is not None:
            # the workers load the model, check it and set the protocols up, streaming their calls
            from medevals.engine.ray_executor import RunIO

            session = await executor.open(p, RunIO(journal, cache, images, stats, warn))
        elif n_pending:
            # Load weights / open connections first: protocols read backend facts (base model or
            # chat) when building the first request, and a model that cannot load fails before any work.
            for client in clients.values():
                await client.start()
            if "candidate" in clients:  # backends that know only once loaded (hf:) say so here
                check_image_support(p.benchmarks, clients["candidate"].backend)
            for pb in p.benchmarks:
                await pb.protocol.setup(pb.items, clients)
        manifest.started_at = manifest.started_at or _now()
        manifest.status = "running"
        folder.write_manifest(manifest)
        if on_start:
            on_start(folder, resumed, skipped, total)

        todo = pending()  # shared by the workers; asyncio runs one next() at a time
        fatal: list[BaseException] = []

        def record(sample: Sample) -> None:
            """A finished unit, from here or a Ray worker: one whole line, counted, shown."""
            nonlocal done, failed, first_error
            folder.append_sample(sample)
            if sample.error is None:
                done += 1
            else:
                failed += 1
                first_error = first_error or sample.error
            if progress:
                progress(done + failed, total, stats)

        async def worker() -> None:
            while not fatal:
                try:
                    pb, unit = next(todo)
                except StopIteration:
                    return
                sample = await run_unit(pb, unit, clients, cfg.seed, images=images)
                if isinstance(sample, BaseException):
                    fatal.append(sample)
                    return
                record(sample)

        if session is not None:
            await session.run(todo, record)
        elif n_pending:
            workers = [asyncio.create_task(worker()) for _ in range(min(p.concurrency, n_pending))]
            try:
                await asyncio.gather(*workers)
            finally:
                for w in workers:
                    w.cancel()
        if fatal:
            raise fatal[0]
    except BaseException as e:  # every way out is recorded, then re-raised below
        failure = e
    finally:
        stop.remove()

    # Wind down: close writers, then metrics, and only then the final status, so a folder that
    # says "complete" always has its metrics (a kill in between leaves it resumable, not lost).
    if session is not None:  # the workers' last calls and figures land before the writers close
        try:
            await session.close(cancel=failure is not None)
        except Exception as e:
            failure = failure or e
    folder.close()
    if failure is None:
        status = "complete" if failed == 0 else "incomplete"
    elif isinstance(failure, asyncio.CancelledError | KeyboardInterrupt | MedevalsError):
        status = "interrupted"
    else:
        status = "failed"
    if journal is not None:
        try:
            journal.close(remove=status == "complete")
        except OSError:
            journal.close()
    for b in backends.values():
        with contextlib.suppress(Exception):
            await b.close()
    if cache is not None:
        cache.close()
    metrics: dict[str, Any] = {}
    try:
        metrics = compute_metrics(folder, manifest)
        folder.write_metrics(metrics)
    except Exception as e:
        if failure is None:  # the run itself went well: this is why it cannot say complete
            failure, status = e, "interrupted"
    manifest.status = status  # type: ignore[assignment]
    manifest.ended_at = _now()
    manifest.stats = {**stats.as_dict(), **({"warnings": warnings} if warnings else {})}
    replicas = session.replicas if session is not None else _replica_stats(backends, role_backend)
    if replicas:
        manifest.stats["replicas"] = replicas
    try:
        folder.write_manifest(manifest)
    except StorageError as e:
        if failure is None:
            failure = e  # the folder still says running: the next identical command finishes it
    removed = failure is not None and not resumed and _remove_if_unused(folder)
    folder.unlock()
    if failure is not None:
        raise _explain(failure, stop.signum, folder, done, total, removed) from None
    return RunOutcome(
        folder, manifest, metrics, resumed, skipped, stats, failed, total, warnings, first_error
    )


def _replica_stats(backends: dict[str, Any], role_backend: dict[str, str]) -> dict[str, Any]:
    """Per-replica figures of each backend spread over several servers, by the roles it served
    (``candidate``, or ``candidate,judge:0`` when the judge is the same model)."""
    out: dict[str, Any] = {}
    for key, backend in backends.items():
        per = backend.replica_stats()
        if per:
            out[",".join(r for r, k in role_backend.items() if k == key)] = per
    return out


def _explain(
    e: BaseException, signum: int | None, folder: RunFolder, done: int, total: int, removed: bool
) -> BaseException:
    """The exception to raise for a run that stopped early, saying how much is saved and how to go on."""
    if removed:
        where = "nothing was saved (no run folder kept)"
    else:
        where = f"{done} of {total} samples saved in {folder.path}, rerun the same command to resume"
    if isinstance(e, asyncio.CancelledError | KeyboardInterrupt):
        if isinstance(e, asyncio.CancelledError) and signum is None:
            return e  # cancelled from outside (not a signal): the caller's business
        sig = signum or signal.SIGINT
        return Interrupted(f"interrupted ({signal.Signals(sig).name}): {where}", sig)
    if isinstance(e, StorageError | ModelError | ConfigError):
        return type(e)(f"{e} -- {where}")
    return e


async def run_unit(
    pb: PreparedBenchmark,
    unit: Unit,
    clients: dict[str, ModelClient],
    seed: int,
    *,
    images: ImageStore | None = None,
) -> Sample | BaseException:
    """Solve and score one unit. Model failures become unscored samples; config errors abort the run."""
    item = pb.items[unit.item_index]
    ctx = SolveContext(
        unit_id=unit.unit_id,
        item=item,
        repeat=unit.repeat,
        variant=unit.variant,
        seed=seed,
        clients=clients,
        fewshot=pb.fewshot,
        images=images,
    )
    t0 = time.time()
    sample = Sample(
        unit_id=unit.unit_id,
        benchmark=unit.benchmark,
        item=item,
        repeat=unit.repeat,
        variant=unit.variant,
        started_at=t0,
    )
    try:
        sample.output = await pb.protocol.solve(item, ctx)
        sample.calls = ctx.calls
        sample.score = pb.protocol.score(item, sample.output, ctx.calls, unit.variant)
    except CallFailed as e:
        sample.calls = ctx.calls
        sample.error = f"model call failed: {e}"
    except (ConfigError, ModelError, StorageError) as e:  # the run stops; the unit is not written
        return e
    except Exception as e:  # a protocol bug or a malformed item must not kill hours of work
        sample.calls = ctx.calls
        tb = traceback.extract_tb(e.__traceback__)[-1]
        sample.error = f"protocol error: {type(e).__name__}: {e} ({Path(tb.filename).name}:{tb.lineno})"
    sample.duration_s = time.time() - t0
    return sample


def compute_metrics(
    folder: RunFolder, manifest: RunManifest, samples: Iterator[Sample] | None = None
) -> dict[str, Any]:
    """Metrics per benchmark from samples.jsonl (streamed); used by run, rescore and report.

    ``samples``: the latest sample of each unit in unit-id order, when the caller produces them
    itself (``rescore`` scores and writes each as it goes): the file is then parsed once. The
    stream is read to its end before the samples' size is taken."""
    aggs: dict[str, Aggregator] = {}
    protos: dict[str, Protocol] = {}
    for b in manifest.benchmarks:
        # The instance, rebuilt from the recorded options: a protocol may headline a value its
        # options name (the freetext protocol's ``primary``) and declare specs per option.
        proto = protos[b.name] = protocol_from_record(b, str(folder.manifest_path))
        aggs[b.name] = Aggregator(
            primary=proto.primary_metric,
            seed=manifest.seed,
            variants=b.variants,
            spec=proto.metric_spec,
        )
    # In unit order, not finishing order: identical samples give byte-identical metrics.json
    # however the units were scheduled (concurrency, Ray, resume; see runs/execution.py).
    # One parse of each sample: the first benchmark with a summary reads its samples from the
    # same ordered pass that feeds every aggregator; any further one re-reads only its own.
    summarized = [
        b.name for b in manifest.benchmarks if get_protocol(b.protocol).summarize is not Protocol.summarize
    ]
    extras: dict[str, Any] = {}

    def feed(only: str | None) -> Iterator[Sample]:
        for s in folder.iter_samples(ordered=True) if samples is None else samples:
            if s.benchmark not in aggs:
                raise RunError(
                    f"{folder.samples_path}: sample {s.unit_id} names a benchmark not in the manifest"
                )
            aggs[s.benchmark].add(s)
            if s.benchmark == only:
                yield s

    first = summarized[0] if summarized else None
    stream = feed(first)
    if first is not None:
        extras[first] = protos[first].summarize(stream)
    for _ in stream:  # a summary that stopped early, or none: every sample still reaches its aggregator
        pass
    for name in summarized[1:]:
        extras[name] = protos[name].summarize(folder.iter_samples(ordered=True, benchmark=name))
    # What the metrics were computed from: a later append (a retried unit) makes them stale.
    size = folder.samples_size()
    out: dict[str, Any] = {
        "run_id": manifest.run_id,
        "model": manifest.model.spec,
        "samples_bytes": size,
        "benchmarks": {},
    }
    for b in manifest.benchmarks:
        res = aggs[b.name].result()
        res["expected"] = b.n_items * len(b.variants) * manifest.repeats
        for v in (res.get("variants") or {}).values():
            v["expected"] = b.n_items * manifest.repeats
        res["taxonomy"] = b.taxonomy.model_dump()
        if b.skipped:
            res["skipped"] = {"n": sum(b.skipped.values()), "reasons": dict(b.skipped)}
        if extras.get(b.name):
            res["extra"] = extras[b.name]
        out["benchmarks"][b.name] = res
    return out


def default_runs_dir() -> Path:
    return Path(os.environ.get("MEDEVALS_RUNS", "runs"))


def command_line() -> list[str]:
    """The command as recorded in the manifest: credentials in URLs removed (models/credentials.py)."""
    from medevals.models.credentials import redact_argv

    return ["medevals", *redact_argv(sys.argv[1:])]
