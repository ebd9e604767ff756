"""``--executor`` and ``--ray-*`` options, shared by ``run`` and ``suite run`` (no Ray import here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from medevals.errors import ConfigError

if TYPE_CHECKING:
    from medevals.engine.ray_executor import RayOptions

Executor = Annotated[
    str,
    typer.Option(
        "--executor",
        help="local (this process, asyncio) or ray (units on Ray workers; this process writes the run folder).",
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="Ray cluster to join: auto (one running on this machine) or HOST:PORT; default: start one here.",
    ),
]
RayWorkers = Annotated[
    int, typer.Option("--ray-workers", help="Ray workers (model replicas) per model, each running -c units.")
]
RayCpus = Annotated[float, typer.Option("--ray-num-cpus", help="CPUs Ray reserves per worker.")]
RayGpus = Annotated[
    float, typer.Option("--ray-num-gpus", help="GPUs Ray reserves per worker (e.g. 1 per vllm:/hf: replica).")
]


def ray_options(
    executor: str, address: str | None, workers: int, num_cpus: float, num_gpus: float
) -> RayOptions | None:
    """The Ray options, or None for the local executor (any --ray-* option then is an error)."""
    if executor not in ("local", "ray"):
        raise ConfigError(f"--executor '{executor}': expected local or ray")
    if executor == "local":
        given = [
            name
            for name, val, default in (
                ("--ray-address", address, None),
                ("--ray-workers", workers, 1),
                ("--ray-num-cpus", num_cpus, 1.0),
                ("--ray-num-gpus", num_gpus, 0.0),
            )
            if val != default
        ]
        if given:
            raise ConfigError(f"{given[0]} needs --executor ray")
        return None
    from medevals.engine.ray_executor import INSTALL_HINT, RayOptions

    if not _installed("ray"):  # said before any work, in one line
        raise ConfigError(INSTALL_HINT)
    opts = RayOptions(address=address, workers=workers, num_cpus=num_cpus, num_gpus=num_gpus)
    opts.check()
    return opts


def _installed(name: str) -> bool:
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
