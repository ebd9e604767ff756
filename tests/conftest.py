"""Test configuration: point MEDEVALS_DATA at ../shared/data, isolate caches and run folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))

if "MEDEVALS_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["MEDEVALS_DATA"] = str(SHARED_DATA)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def data_dir() -> Path:
    p = Path(os.environ.get("MEDEVALS_DATA", SHARED_DATA))
    if not p.is_dir():
        pytest.skip(f"benchmark data folder {p} not present (set MEDEVALS_DATA)")
    return p


@pytest.fixture
def shared_data() -> Path:
    return data_dir()


@pytest.fixture
def fake_server():
    from fake_openai import FakeOpenAI

    servers = []

    def make(**kw):
        s = FakeOpenAI(**kw).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for every test that needs it: 2 CPUs, on loopback only.

    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps every Ray service on 127.0.0.1 (on these machines
    Ray would otherwise bind the primary network address: ../shared/RECIPES.md). Starting Ray
    takes 5-25 s here, so it is started once per session and stopped with ``ray.shutdown()``
    (never ``ray stop``, which would end every Ray process of the user).
    """
    ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed (pip install -e '.[ray]')")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
