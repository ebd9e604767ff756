"""The same ``medevals run`` with the local executor and with ``--executor ray`` (1 and N workers).

Starts the fake server (``tests/fake_openai.py``) in its own process with a fixed latency, writes N
generated multiple-choice items, and runs ``medevals run`` as a user would (a subprocess) three
ways: local, Ray with one worker, Ray with ``--workers`` workers (each ``-c`` units in flight, so
the server sees workers x C requests at once). Ray starts its own instance on this machine each
time (loopback only), so "end to end" includes Ray's start-up; "running" is the server's first
request to its last (what the executor does once going). The check column says whether every run
scored 80%, the fake server's exact answer rate.

Usage::

    python perf/ray_scaleout.py --items 2000 --latency 0.05 --concurrency 16 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from genbench import write_bench  # noqa: E402


def _serve(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_openai.py"), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}"


def _get(url: str, method: str = "GET") -> dict:
    return json.loads(urllib.request.urlopen(urllib.request.Request(url, method=method)).read() or b"{}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    work = Path(tempfile.mkdtemp(prefix="medevals-ray-bench-"))
    spec = write_bench(work / "bench", args.items)
    server, url = _serve(args.latency)
    ways = [
        ("local", []),
        ("ray, 1 worker", ["--executor", "ray", "--ray-num-cpus", "0.5"]),
        (
            f"ray, {args.workers} workers",
            ["--executor", "ray", "--ray-workers", str(args.workers), "--ray-num-cpus", "0.5"],
        ),
    ]
    print(
        f"items {args.items}, latency {args.latency * 1000:.0f} ms, -c {args.concurrency}, load {os.getloadavg()[0]:.1f}"
    )
    print("| executor | end to end (s) | running (s) | items/s running | server-bound limit (s) | check |")
    print("|---|---|---|---|---|---|")
    try:
        for label, extra in ways:
            _get(url + "/_reset", "POST")
            runs = work / f"runs-{len(extra)}"
            cmd = [sys.executable, "-m", "medevals", "run", "-m", "openai:fake", "--base-url", url + "/v1"]
            cmd += ["-b", str(spec), "-c", str(args.concurrency), "--no-cache", "--no-report", "-q"]
            t0 = time.time()
            done = subprocess.run(
                [*cmd, "--runs-dir", str(runs), *extra], env=env, capture_output=True, text=True
            )
            wall = time.time() - t0
            st = _get(url + "/_stats")
            running = st["last_request_t"] - st["first_request_t"]
            workers = int(extra[extra.index("--ray-workers") + 1]) if "--ray-workers" in extra else 1
            limit = args.items * args.latency / (args.concurrency * workers)
            check = "error: " + done.stderr.strip().splitlines()[-1] if done.returncode else ""
            if not check:
                folder = next(p for p in runs.iterdir() if p.is_dir())
                acc = json.loads((folder / "metrics.json").read_text())["benchmarks"]["gen"]["metrics"][
                    "accuracy"
                ]
                check = f"accuracy {acc['value']:.3f}"
            print(
                f"| {label} | {wall:.1f} | {running:.2f} | {args.items / running:.1f} | {limit:.2f} | {check} |",
                flush=True,
            )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
