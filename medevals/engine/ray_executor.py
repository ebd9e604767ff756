"""Running a run's units on a Ray cluster, with the driver as the only writer of the run folder.

``medevals run ... --executor ray`` (and ``suite run``) keeps everything ``evaluate.execute``
does on the driver -- preparing, the run-folder lock, the journal, the response cache,
samples.jsonl, metrics, the final status, signals -- and moves only the model work to Ray
actors ("workers"). A worker runs the *same* code path as a local run: ``evaluate.run_unit`` ->
the protocol's ``solve`` -> ``ModelClient.call`` (journal replay, cache, retries, accounting) ->
the backend, with its own model clients and its own concurrency (``-c`` units at a time per
worker). There is no second engine: only where the pieces live changes.

What moves where:

- **Units** (benchmark x item x variant x repeat, ``schema.Unit``) are shipped in batches, each
  with its item and the calls the run folder's journal already holds for it (a resumed unit
  replays them instead of calling again: ``Journal.take_unit``). A worker holds about two
  batches: ``-c`` units run, the next ``-c`` wait, so the model server never idles on the
  driver.
- **Everything a worker produces streams back** over one Ray streaming call per worker and
  run: every finished call (the driver appends it to ``journal.jsonl`` at once, as a local
  client would), every answer to store in the response cache, every image a protocol stored,
  every finished sample (appended to ``samples.jsonl``, counted, shown in the progress bar),
  the workers' call statistics, warnings. So a ``kill -9`` of the driver loses exactly what a
  local run would lose (the calls in flight), resume reads the same journal, and metrics and
  reports are computed from the same files: identical to a local run.
- **The response cache** stays a file on the driver's machine, written only by the driver. A
  worker looks answers up through a small actor pinned to the driver's node that opens the
  SQLite file read-only (``ResponseCache(readonly=True)``): one Ray call per lookup (~1 ms), no
  file shared between machines. Resume never depends on it (the journal does that).
- **Images** a protocol stores go to a temporary folder on the worker and their bytes are
  streamed back; the driver writes them into the run folder's ``images/``.
- **Model backends**: HTTP backends (``openai:``, replica sets) are made per run on each worker;
  in-process backends (``builtin:``, ``hf:``, ``vllm:``) are loaded once per worker and serve
  every run of that model, on the CPUs/GPUs the worker asked Ray for (``--ray-num-gpus 1``
  puts each model replica on its own GPU; ``--ray-workers N`` makes N replicas).
- **The API key** is read from its variable on the driver and handed to the workers in memory
  with each run (never in a run spec, a log or the cluster's metadata).

The code a worker runs must be the driver's: each worker reports its medevals version and git
commit when it starts, and a mismatch stops the run before any call (install the same commit on
every node). Data stays on the driver (items travel with the units); protocols that prepare
something from files (a retrieval corpus, ``--rag``) need those files on the worker nodes too.

A worker that dies (its node lost) has its units re-queued to the model's other workers with
the calls already received for them; with no worker left the run stops as interrupted and the
same command resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medevals.engine.client import CallStats, ModelClient
from medevals.engine.keys import canonical_json
from medevals.errors import ConfigError, ModelError
from medevals.images.store import ImageStore
from medevals.models.registry import IN_PROCESS
from medevals.schema import CallRecord, Item, ModelRecord, Sample, Unit

if TYPE_CHECKING:
    from medevals.engine.cache import ResponseCache
    from medevals.engine.journal import Journal
    from medevals.evaluate import Prepared, PreparedBenchmark

_LOOPBACK_VAR = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
INSTALL_HINT = "--executor ray needs Ray: pip install -e '.[ray]'"


@dataclass
class RayOptions:
    """``--ray-*`` options. ``address`` None starts a Ray instance on this machine (loopback only)."""

    address: str | None = None
    workers: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0

    def check(self) -> None:
        if self.workers < 1:
            raise ConfigError("--ray-workers must be at least 1")
        if self.num_cpus < 0 or self.num_gpus < 0:
            raise ConfigError("--ray-num-cpus and --ray-num-gpus must be 0 or more")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


# ----------------------------------------------------------------------------- the run spec


@dataclass
class _BenchSpec:
    bench: Any
    protocol: Any
    fewshot: list[Item]
    record: Any
    #: Every item, only for protocols with a ``setup`` that reads them (retrieval corpora, EHR worlds).
    setup_items: list[Item] | None


@dataclass
class _RunSpec:
    """What a worker needs for one run (pickled once per run; no secrets, no file handles)."""

    run_key: str
    seed: int
    concurrency: int
    prices: Any
    retry: Any
    benchmarks: list[_BenchSpec]
    use_cache: bool


def _run_spec(p: Prepared, run_key: str) -> _RunSpec:
    from medevals.protocols.base import Protocol

    benches = []
    for pb in p.benchmarks:
        needs_items = type(pb.protocol).setup is not Protocol.setup
        benches.append(
            _BenchSpec(
                bench=pb.bench,
                protocol=pb.protocol,
                fewshot=pb.fewshot,
                record=pb.record,
                setup_items=[pb.items[i] for i in range(len(pb.items))] if needs_items else None,
            )
        )
    return _RunSpec(
        run_key=run_key,
        seed=p.cfg.seed,
        concurrency=p.concurrency,
        prices=p.cfg.prices,
        retry=p.cfg.retry,
        benchmarks=benches,
        use_cache=p.cfg.use_cache,
    )


def _model_records(p: Prepared) -> dict[str, ModelRecord]:
    out: dict[str, ModelRecord] = {}
    if p.model.backend != "none":
        out["candidate"] = p.model
    out.update(p.roles)
    return out


def _record_key(record: ModelRecord) -> str:
    return canonical_json({"r": record.model_dump(), "c": repr(record._url_credentials)})


def _secrets(records: dict[str, ModelRecord]) -> dict[str, str]:
    """The API-key variables the models read, from the driver's environment."""
    names = {r.api_key_env for r in records.values() if r.api_key_env}
    return {n: os.environ[n] for n in names if n in os.environ}


# ----------------------------------------------------------------------------- worker side


class _Items:
    """The items of the units a worker holds, by index, dropped when their last unit finishes."""

    def __init__(self) -> None:
        self._items: dict[int, list[Any]] = {}

    def add(self, idx: int, item: Item) -> None:
        slot = self._items.get(idx)
        if slot is None:
            self._items[idx] = [item, 1]
        else:
            slot[1] += 1

    def release(self, idx: int) -> None:
        slot = self._items.get(idx)
        if slot is not None:
            slot[1] -= 1
            if slot[1] <= 0:
                del self._items[idx]

    def __getitem__(self, idx: int) -> Item:
        return self._items[idx][0]

    def __len__(self) -> int:
        return len(self._items)


class _ShippedJournal:
    """The worker's side of the run folder's journal: replays the calls shipped with each unit
    (by request key, as ``Journal.take`` does) and streams every new call to the driver."""

    def __init__(self, session: _Session):
        self._session = session
        self._replay: dict[str, deque[CallRecord]] = defaultdict(deque)
        self._keys: dict[str, set[str]] = defaultdict(set)  # unit id -> keys of its shipped calls

    def add(self, records: list[CallRecord]) -> None:
        for rec in records:
            self._replay[rec.key].append(rec)
            self._keys[rec.unit_id].add(rec.key)

    def drop_unit(self, unit_id: str) -> None:
        """A finished unit's unused records go (a retried unit may have asked differently)."""
        for key in self._keys.pop(unit_id, ()):
            kept = [r for r in self._replay.get(key, ()) if r.unit_id != unit_id]
            if kept:
                self._replay[key] = deque(kept)
            else:
                self._replay.pop(key, None)

    def take(self, key: str) -> CallRecord | None:
        q = self._replay.get(key)
        return q.popleft() if q else None

    def append(self, rec: CallRecord) -> None:
        self._session.emit(("call", rec))


class _CacheProxy:
    """Lookups through the driver node's read-only cache reader; stores go to the driver."""

    def __init__(self, reader: Any, session: _Session):
        self._reader = reader
        self._session = session
        self._off = False

    async def aget(self, key: str) -> tuple[dict[str, Any], float] | None:
        if self._off:
            return None
        try:
            return await self._reader.get.remote(key)
        except Exception as e:  # the cache is an optimisation: a failing one costs no answer
            self._off = True
            self._session.warn(f"response cache lookups from a Ray worker failed ({type(e).__name__}); off")
            return None

    def get(self, key: str) -> None:
        return None

    def put(self, key: str, model: str, kind: str, raw: dict[str, Any], latency_s: float) -> None:
        self._session.emit(("cache", key, model, kind, raw, latency_s))


class _ForwardingImages(ImageStore):
    """An image store in a temporary folder whose new images are streamed to the driver."""

    def __init__(self, root: Path, session: _Session):
        super().__init__(root)
        self._session = session

    def put(self, enc: Any) -> str:
        new = not (self.root / f"images/{enc.sha256}.{enc.ext}").exists()
        ref = super().put(enc)
        if new:
            self._session.emit(("image", ref, enc.data))
        return ref


_CLOSED = object()


class _Session:
    """One run on one worker: its clients, protocols, journal view and event queue."""

    def __init__(self, spec: _RunSpec, backends: dict[str, Any], sem: asyncio.Semaphore, reader: Any):
        from medevals.evaluate import PreparedBenchmark

        self.spec = spec
        self.sem = sem
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.stats = CallStats()
        self._reported: dict[str, Any] = {}
        self.journal = _ShippedJournal(self)
        self.cache = _CacheProxy(reader, self) if reader is not None else None
        self.tmp = Path(tempfile.mkdtemp(prefix="medevals-ray-"))
        self.images = _ForwardingImages(self.tmp, self)
        self.backends = backends
        self.clients = {
            role: ModelClient(
                backend,
                role=role,
                concurrency=spec.concurrency,
                cache=self.cache,  # type: ignore[arg-type]
                prices=spec.prices,
                retry=spec.retry,
                stats=self.stats,
                journal=self.journal,  # type: ignore[arg-type]
                images=self.images,
                on_warning=self.warn,
            )
            for role, backend in backends.items()
        }
        self.benchmarks: dict[str, PreparedBenchmark] = {
            b.record.name: PreparedBenchmark(b.bench, b.protocol, _Items(), b.fewshot, b.record)  # type: ignore[arg-type]
            for b in spec.benchmarks
        }
        self.tasks: set[asyncio.Task[None]] = set()

    def emit(self, event: tuple[Any, ...]) -> None:
        self.queue.put_nowait(event)

    def warn(self, message: str) -> None:
        self.emit(("warning", message))

    def stats_delta(self) -> dict[str, Any]:
        now = self.stats.as_dict()
        delta: dict[str, Any] = {}
        for k, v in now.items():
            if isinstance(v, dict):
                old = self._reported.get(k) or {}
                d = {r: n - old.get(r, 0) for r, n in v.items() if n != old.get(r, 0)}
                if d:
                    delta[k] = d
            elif v != self._reported.get(k, 0):
                delta[k] = v - self._reported.get(k, 0)
        self._reported = {k: (dict(v) if isinstance(v, dict) else v) for k, v in now.items()}
        return delta

    async def setup(self) -> None:
        from medevals.images.capability import check_image_support

        for client in self.clients.values():
            await client.start()
        if "candidate" in self.clients:
            check_image_support(list(self.benchmarks.values()), self.clients["candidate"].backend)
        for b in self.spec.benchmarks:
            if b.setup_items is not None:
                await b.protocol.setup(b.setup_items, self.clients)
                b.setup_items = None

    def submit(self, batch: list[tuple[Unit, Item, list[CallRecord]]]) -> None:
        for unit, item, prior in batch:
            pb = self.benchmarks[unit.benchmark]
            pb.items.add(unit.item_index, item)  # type: ignore[attr-defined]
            self.journal.add(prior)
            task = asyncio.get_running_loop().create_task(self._one(pb, unit))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _one(self, pb: PreparedBenchmark, unit: Unit) -> None:
        from medevals.evaluate import run_unit

        try:
            async with self.sem:
                sample = await run_unit(pb, unit, self.clients, self.spec.seed, images=self.images)
            self.emit(("fatal", sample) if isinstance(sample, BaseException) else ("sample", sample))
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # a bug in this module: the driver must hear of it
            self.emit(("fatal", RuntimeError(f"Ray worker: {type(e).__name__}: {e}")))
        finally:
            pb.items.release(unit.item_index)  # type: ignore[attr-defined]
            self.journal.drop_unit(unit.unit_id)

    async def close(self, cancel: bool) -> dict[str, Any]:
        if cancel:
            for t in list(self.tasks):
                t.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        final = {"stats": self.stats_delta(), "replicas": {}}
        for role, backend in self.backends.items():
            state = getattr(backend, "replica_state", None)
            if state is not None:
                final["replicas"][role] = state()
        self.queue.put_nowait(_CLOSED)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return final


class WorkerImpl:
    """A Ray actor serving one model (candidate + roles) to any number of runs."""

    def __init__(self, records: dict[str, ModelRecord], concurrency: int):
        self.records = records
        self.concurrency = concurrency
        self.sessions: dict[str, _Session] = {}
        self._shared: dict[str, Any] = {}  # in-process backends, loaded once per worker
        self._sem: asyncio.Semaphore | None = None

    async def hello(self) -> dict[str, Any]:
        import platform
        import socket

        import medevals
        from medevals.evaluate import _git_sha

        return {
            "version": medevals.__version__,
            "git_sha": _git_sha(),
            "python": platform.python_version(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    def _backend(self, record: ModelRecord, concurrency: int) -> Any:
        from medevals.models.registry import create_backend

        if record.backend not in IN_PROCESS:
            return create_backend(record, concurrency=concurrency)
        key = _record_key(record)
        if key not in self._shared:
            self._shared[key] = create_backend(record, concurrency=concurrency)
        return self._shared[key]

    async def open_run(self, spec: _RunSpec, secrets: dict[str, str], reader: Any) -> None:
        os.environ.update(secrets)  # this worker process only: the model clients read them at start
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        backends: dict[str, Any] = {}
        made: dict[str, Any] = {}
        for role, record in self.records.items():
            key = _record_key(record)
            if key not in made:  # a judge that is the candidate shares its backend, as locally
                made[key] = self._backend(record, spec.concurrency)
            backends[role] = made[key]
        self.sessions[spec.run_key] = _Session(spec, backends, self._sem, reader if spec.use_cache else None)

    async def setup_run(self, run_key: str) -> None:
        await self.sessions[run_key].setup()

    async def submit(self, run_key: str, batch: list[tuple[Unit, Item, list[CallRecord]]]) -> None:
        self.sessions[run_key].submit(batch)

    async def events(self, run_key: str):  # type: ignore[no-untyped-def]
        """The run's events, as lists (one Ray object per list), until the run is closed."""
        session = self.sessions[run_key]
        q = session.queue
        while True:
            first = await q.get()
            if first is _CLOSED:
                return
            out = [first]
            closed = False
            while not q.empty() and len(out) < 512:
                ev = q.get_nowait()
                if ev is _CLOSED:
                    closed = True
                    break
                out.append(ev)
            out.append(("stats", session.stats_delta()))
            yield out
            if closed:
                return

    async def close_run(self, run_key: str, cancel: bool = False) -> dict[str, Any]:
        session = self.sessions.pop(run_key, None)
        if session is None:
            return {"stats": {}, "replicas": {}}
        final = await session.close(cancel)
        for backend in {id(b): b for b in session.backends.values()}.values():
            if backend.record.backend not in IN_PROCESS:
                with contextlib.suppress(Exception):
                    await backend.close()
        return final

    async def shutdown(self) -> None:
        for backend in self._shared.values():
            with contextlib.suppress(Exception):
                await backend.close()
        self._shared.clear()


class CacheReaderImpl:
    """Read-only lookups in the driver's response cache, on the driver's node."""

    def __init__(self, path: str):
        from medevals.engine.cache import ResponseCache

        self.cache = ResponseCache(path, readonly=True)

    def get(self, key: str) -> tuple[dict[str, Any], float] | None:
        return self.cache.get(key)


# ----------------------------------------------------------------------------- driver side


@dataclass
class RunIO:
    """The driver's writers for one run: the only place a worker's results land."""

    journal: Journal
    cache: ResponseCache | None
    images: ImageStore
    stats: CallStats
    warn: Callable[[str], None]


@dataclass
class _Worker:
    handle: Any
    name: str
    alive: bool = True


@dataclass
class _ModelPool:
    key: str
    records: dict[str, ModelRecord]
    workers: list[_Worker]
    users: int = 0


class RayExecutor:
    """Connects to (or starts) a Ray cluster and keeps each model's workers while runs use them."""

    def __init__(self, options: RayOptions):
        options.check()
        self.options = options
        self.ray = import_ray()
        self._owned = False
        self._pools: dict[str, _ModelPool] = {}
        self._readers: dict[str, Any] = {}
        self._pool_lock: asyncio.Lock | None = None
        self._runs = 0
        self._connect()

    # -- cluster
    def _connect(self) -> None:
        ray = self.ray
        if ray.is_initialized():
            return
        if self.options.address is None:
            # A cluster of this one machine: everything on loopback (../shared/RECIPES.md), no
            # service reachable from the network.
            os.environ.setdefault(_LOOPBACK_VAR, "0")
        try:
            ray.init(
                address=self.options.address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=True,
                logging_level="ERROR",
            )
        except (ConnectionError, ValueError, RuntimeError) as e:
            where = self.options.address or "a local Ray instance"
            raise ConfigError(f"cannot connect to {where}: {str(e).splitlines()[0]}") from None
        self._owned = True
        self._check_resources()

    def _check_resources(self) -> None:
        o = self.options
        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        fits = [
            n
            for n in nodes
            if n.get("Resources", {}).get("CPU", 0) >= o.num_cpus
            and n.get("Resources", {}).get("GPU", 0) >= o.num_gpus
        ]
        if not fits:
            have = ", ".join(
                f"{n.get('NodeManagerAddress')}: {n.get('Resources', {}).get('CPU', 0):g} CPU "
                f"{n.get('Resources', {}).get('GPU', 0):g} GPU"
                for n in nodes
            )
            raise ConfigError(
                f"no node of the Ray cluster has {o.num_cpus:g} CPU and {o.num_gpus:g} GPU for a worker "
                f"(--ray-num-cpus/--ray-num-gpus); nodes: {have or 'none'}"
            )

    def capacity(self) -> int:
        """How many workers of this size the cluster holds at once (for a suite's parallelism)."""
        total = self.ray.cluster_resources()
        o = self.options
        fit = []
        if o.num_cpus > 0:
            fit.append(int(total.get("CPU", 0) // o.num_cpus))
        if o.num_gpus > 0:
            fit.append(int(total.get("GPU", 0) // o.num_gpus))
        return max(1, min(fit) if fit else 64)

    async def close(self) -> None:
        for pool in list(self._pools.values()):
            await self._kill(pool)
        self._pools.clear()
        for reader in self._readers.values():
            with contextlib.suppress(Exception):
                self.ray.kill(reader)
        self._readers.clear()
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()
            self._owned = False

    async def _kill(self, pool: _ModelPool) -> None:
        for w in pool.workers:
            if w.alive:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(w.handle.shutdown.remote(), 30)
            with contextlib.suppress(Exception):
                self.ray.kill(w.handle)
        pool.workers = []

    # -- workers
    async def acquire(self, p: Prepared) -> _ModelPool:
        """Keep the workers of ``p``'s model up until ``release``: a suite holds them across the
        model's runs, so an in-process model loads once, not once per benchmark."""
        return await self._pool(p)

    async def _pool(self, p: Prepared) -> _ModelPool:
        if self._pool_lock is None:
            self._pool_lock = asyncio.Lock()
        records = _model_records(p)
        key = canonical_json(
            {
                "models": {r: _record_key(rec) for r, rec in sorted(records.items())},
                "concurrency": p.concurrency,
            }
        )
        async with self._pool_lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = _ModelPool(key, records, await self._start_workers(records, p.concurrency))
                self._pools[key] = pool
            pool.users += 1
            return pool

    async def _start_workers(self, records: dict[str, ModelRecord], concurrency: int) -> list[_Worker]:
        import medevals
        from medevals.evaluate import _git_sha

        ray, o = self.ray, self.options
        actor = ray.remote(WorkerImpl)
        spec = records.get("candidate") or next(iter(records.values()), None)
        label = spec.spec if spec is not None else "none"
        workers = []
        for i in range(o.workers):
            handle = actor.options(
                num_cpus=o.num_cpus,
                num_gpus=o.num_gpus,
                max_restarts=0,
                scheduling_strategy="SPREAD",
            ).remote(records, concurrency)
            workers.append(_Worker(handle, f"{label} #{i + 1}"))
        hellos = await asyncio.gather(*(w.handle.hello.remote() for w in workers))
        mine = (medevals.__version__, _git_sha())
        for h in hellos:
            theirs = (h.get("version"), h.get("git_sha"))
            if theirs[0] != mine[0] or (mine[1] and theirs[1] and theirs[1] != mine[1]):
                for x in workers:
                    ray.kill(x.handle)
                raise ConfigError(
                    f"Ray worker on {h.get('host')} runs medevals {theirs[0]} ({theirs[1] or 'no git sha'}), "
                    f"this driver {mine[0]} ({mine[1] or 'no git sha'}): install the same commit on every node"
                )
        return workers

    async def release(self, pool: _ModelPool) -> None:
        """A run of this model ended; its workers go when no run uses them (their resources free)."""
        async with self._pool_lock or asyncio.Lock():
            pool.users -= 1
            if pool.users <= 0 and self._pools.get(pool.key) is pool:
                del self._pools[pool.key]
                await self._kill(pool)

    def _reader(self, path: Path) -> Any:
        key = str(path.resolve())
        if key not in self._readers:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = self.ray.get_runtime_context().get_node_id()
            self._readers[key] = (
                self.ray.remote(CacheReaderImpl)
                .options(
                    num_cpus=0,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False),
                )
                .remote(key)
            )
        return self._readers[key]

    async def open(self, p: Prepared, io: RunIO) -> RaySession:
        """Start (or reuse) the model's workers and open this run on each; protocols set up there."""
        self._runs += 1
        run_key = f"run-{os.getpid()}-{self._runs}"  # taken before any await: runs open concurrently
        pool = await self._pool(p)
        session = RaySession(self, pool, p, io, run_key)
        try:
            await session.open()
        except BaseException:
            await session.close(cancel=True)
            raise
        return session


@dataclass
class _InFlight:
    pb: Any
    unit: Unit
    calls: list[CallRecord]
    worker: _Worker


@dataclass
class RaySession:
    """The driver's side of one run on the Ray workers of its model."""

    executor: RayExecutor
    pool: _ModelPool
    p: Prepared
    io: RunIO
    run_key: str
    inflight: dict[str, _InFlight] = field(default_factory=dict)
    requeue: deque[_InFlight] = field(default_factory=deque)
    fatal: BaseException | None = None
    replicas: dict[str, dict[str, Any]] = field(default_factory=dict)
    _consumers: list[asyncio.Task[None]] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _record: Callable[[Sample], None] | None = None
    _warned: set[str] = field(default_factory=set)
    _closed: bool = False
    _opened: list[_Worker] = field(default_factory=list)

    @property
    def window(self) -> int:
        return 2 * self.p.concurrency

    @property
    def batch(self) -> int:
        return max(1, self.p.concurrency)

    def _live(self) -> list[_Worker]:
        return [w for w in self.pool.workers if w.alive]

    async def open(self) -> None:
        cache_path = None
        if self.io.cache is not None and not self.io.cache.disabled:
            cache_path = self.io.cache.path
        reader = self.executor._reader(cache_path) if cache_path is not None else None
        ray = self.executor.ray
        spec_ref = ray.put(_run_spec(self.p, self.run_key))
        secrets = _secrets(self.pool.records)
        workers = self._live()
        if not workers:
            raise ModelError("no live Ray worker for this model")
        self._opened = list(workers)  # closed again on failure, whichever of them opened it
        await self._gather_or_fatal([w.handle.open_run.remote(spec_ref, secrets, reader) for w in workers])
        for w in workers:
            self._consumers.append(asyncio.get_running_loop().create_task(self._consume(w)))
        await self._gather_or_fatal([w.handle.setup_run.remote(self.run_key) for w in workers])

    async def _gather_or_fatal(self, refs: list[Any]) -> None:
        """Wait for worker calls, unwrapping a remote MedevalsError into the driver's own."""
        try:
            await asyncio.gather(*refs)
        except Exception as e:
            raise _unwrap(e) from None
        if self.fatal is not None:
            raise self.fatal

    # -- events from one worker
    async def _consume(self, w: _Worker) -> None:
        gen = w.handle.events.options(num_returns="streaming").remote(self.run_key)
        try:
            async for ref in gen:
                events = await ref
                for ev in events:
                    self._handle(ev)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if not self._closed:
                self._worker_lost(w, e)
        finally:
            self._wake.set()

    def _handle(self, ev: tuple[Any, ...]) -> None:
        kind = ev[0]
        try:
            if kind == "call":
                rec: CallRecord = ev[1]
                self.io.journal.append(rec)
                fl = self.inflight.get(rec.unit_id)
                if fl is not None:
                    fl.calls.append(rec)
            elif kind == "sample":
                sample: Sample = ev[1]
                self.inflight.pop(sample.unit_id, None)
                assert self._record is not None
                self._record(sample)
                self._wake.set()
            elif kind == "cache":
                if self.io.cache is not None:
                    self.io.cache.put(*ev[1:])
            elif kind == "image":
                _store_image(self.io.images, ev[1], ev[2])
            elif kind == "stats":
                _merge_stats(self.io.stats, ev[1])
            elif kind == "warning":
                if ev[1] not in self._warned:
                    self._warned.add(ev[1])
                    self.io.warn(ev[1])
            elif kind == "fatal":
                self._fail(ev[1])
        except BaseException as e:  # a full disk while writing: the run stops, as locally
            self._fail(e)

    def _fail(self, e: BaseException) -> None:
        if self.fatal is None:
            self.fatal = e
        self._wake.set()

    def _worker_lost(self, w: _Worker, e: BaseException) -> None:
        err = _unwrap(e)
        if not _is_actor_death(e):
            self._fail(err)  # a bug or a remote error: not a lost node
            return
        w.alive = False
        for uid, fl in list(self.inflight.items()):
            if fl.worker is w:
                del self.inflight[uid]
                self.requeue.append(fl)
        if not self._live():
            self._fail(
                ModelError(
                    f"every Ray worker of this model died (last: {w.name}: {str(err).splitlines()[0]})"
                )
            )
        self.io.warn(f"Ray worker {w.name} died; its units go to the model's other workers")

    # -- feeding units
    async def run(
        self, todo: Iterator[tuple[PreparedBenchmark, Unit]], record: Callable[[Sample], None]
    ) -> None:
        self._record = record
        exhausted = False
        while True:
            self._wake.clear()  # before looking: a sample landing while _fill awaits sets it again
            if self.fatal is not None:
                raise self.fatal
            if not exhausted or self.requeue:
                exhausted = await self._fill(todo, exhausted)
            if self.fatal is not None:
                raise self.fatal
            if exhausted and not self.inflight and not self.requeue:
                return
            await self._wake.wait()

    async def _fill(self, todo: Iterator[tuple[PreparedBenchmark, Unit]], exhausted: bool) -> bool:
        for w in self._live():
            if w not in self._opened:
                continue
            held = sum(1 for fl in self.inflight.values() if fl.worker is w)
            room = self.window - held
            if room < self.batch and held > 0:
                continue
            batch: list[tuple[Unit, Item, list[CallRecord]]] = []
            while len(batch) < room:
                if self.requeue:
                    fl = self.requeue.popleft()
                    fl.worker = w
                else:
                    if exhausted:
                        break
                    try:
                        pb, unit = next(todo)
                    except StopIteration:
                        exhausted = True
                        break
                    fl = _InFlight(pb, unit, self.io.journal.take_unit(unit.unit_id), w)
                self.inflight[fl.unit.unit_id] = fl
                batch.append((fl.unit, fl.pb.items[fl.unit.item_index], list(fl.calls)))
            if batch:
                try:
                    await w.handle.submit.remote(self.run_key, batch)
                except Exception as e:
                    self._worker_lost(w, e)
        return exhausted

    async def close(self, cancel: bool = False) -> None:
        """End the run on every worker (cancelling what runs there after a failure) and collect
        the workers' last figures; the model's workers go once no run uses them."""
        if self._closed:
            return
        self._closed = True  # from here a stream that ends with an error is the close, not a loss
        finals = []
        for w in self._opened:
            if not w.alive:
                continue
            try:
                finals.append(await asyncio.wait_for(w.handle.close_run.remote(self.run_key, cancel), 60))
            except Exception:
                w.alive = False
        for t in self._consumers:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(t, 10)
            t.cancel()
        for final in finals:
            _merge_stats(self.io.stats, final.get("stats") or {})
        self.replicas = _merge_replicas(self.pool.records, [f.get("replicas") or {} for f in finals])
        await self.executor.release(self.pool)


def _store_image(images: ImageStore, ref: str, data: bytes) -> None:
    path = images.path(ref)  # checks the reference's form
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _merge_stats(stats: CallStats, delta: dict[str, Any]) -> None:
    for k, v in delta.items():
        cur = getattr(stats, k, None)
        if isinstance(v, dict):
            if isinstance(cur, dict):
                for r, n in v.items():
                    cur[r] = cur.get(r, 0) + n
        elif cur is not None:
            setattr(stats, k, cur + v)


def _merge_replicas(records: dict[str, ModelRecord], finals: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-replica figures summed over workers, keyed like a local run's (roles sharing a model joined)."""
    from medevals.models.replicas import merge_states

    by_key: dict[str, list[str]] = defaultdict(list)
    for role, rec in records.items():
        by_key[_record_key(rec)].append(role)
    out: dict[str, Any] = {}
    for roles in by_key.values():
        states = [f[roles[0]] for f in finals if roles[0] in f]
        if states:
            out[",".join(roles)] = merge_states(states)
    return out


def _is_actor_death(e: BaseException) -> bool:
    name = type(e).__name__
    return name in (
        "RayActorError",
        "ActorDiedError",
        "ActorUnavailableError",
        "NodeDiedError",
        "WorkerCrashedError",
    )


def _unwrap(e: BaseException) -> BaseException:
    """The original exception of a remote error (a ConfigError raised in setup stays a ConfigError)."""
    cause = getattr(e, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return e
