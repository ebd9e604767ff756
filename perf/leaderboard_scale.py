"""Leaderboard over thousands of run folders; rescore and report of a 100,000-sample run folder.

Builds, with medevals' own writers and no model:

- a 100,000-sample run folder: a generated 4-option benchmark (``tests/genbench.py``, a YAML
  custom spec) prepared by ``evaluate.prepare`` and opened by ``evaluate.open_run_folder`` as a
  run would; each unit's chat request is the mcq protocol's own (``build_request``), its reply a
  chat completion ``ANSWER: X`` (right for 4 items in 5), scored by ``Protocol.score``, appended
  by ``RunFolder.append_sample``; metrics by ``compute_metrics``;
- N leaderboard run folders: B real small runs made the same way (one per benchmark, each with a
  taxonomy category), then cloned per model: manifest rewritten (``RunManifest``: model, run id,
  time) and metrics rewritten (``RunFolder.write_metrics``) with that model's accuracy and cost.

Then times, each as a user runs it (the real CLI in a subprocess, wall clock):

- ``medevals leaderboard RUNS --html`` cold (no index.duckdb) and warm (nothing changed), and
  warm after re-writing 1% of the folders;
- ``medevals rescore FOLDER --no-report`` and ``medevals report FOLDER`` on the 100k folder;
- the report and the leaderboard page opened in headless Chromium (``--dump-dom``: parse,
  style, run scripts, serialise), beside Chromium on an empty page (its own start-up).

Usage::

    python perf/leaderboard_scale.py --folders 2000 --samples 100000 --work /tmp/lbscale
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from genbench import write_bench  # noqa: E402

CATEGORIES = [
    "Clinical decision support",
    "Clinical note generation",
    "Patient communication and education",
    "Medical research assistance",
    "Administration and workflow",
]

#: The issue's targets (for a 100,000-sample folder).
TARGETS = {"rescore ": 10.0, "report ": 5.0, "report.html in Chromium": 2.0}


def make_run(
    work: Path, runs: Path, name: str, n: int, category: str, model: str = "openai:synthetic"
) -> Path:
    """A finished run folder of ``n`` samples of a generated benchmark, written by medevals."""
    from medevals.evaluate import RunConfig, compute_metrics, open_run_folder, prepare
    from medevals.protocols.base import SolveContext
    from medevals.schema import CallRecord, Sample, Usage

    data = work / f"data-{name}"
    spec = write_bench(data, n, name=name)
    spec.write_text(
        spec.read_text(encoding="utf-8") + f"taxonomy: {{category: {category}, subcategory: generated}}\n",
        encoding="utf-8",
    )
    cfg = RunConfig(
        model=model,
        benchmarks=[str(spec)],
        base_url="http://127.0.0.1:9/v1",
        runs_dir=runs,
        new=True,
        use_cache=False,
        command=["medevals", "run", "-m", model, "-b", str(spec)],
    )
    p = prepare(cfg)
    folder, manifest, _ = open_run_folder(p)
    pb = p.benchmarks[0]
    proto = pb.protocol
    (variant,) = pb.record.variants
    rnd = random.Random(0)
    t0 = time.time()
    # build_request asks only whether the candidate is a base model (chat here); nothing is sent
    chat_model = {"candidate": SimpleNamespace(backend=SimpleNamespace(base_model=False))}
    try:
        for i in range(len(pb.items)):
            item = pb.items[i]
            uid = f"{pb.bench.name}/{item.id}/{variant}/r0"
            ctx = SolveContext(unit_id=uid, item=item, repeat=0, variant=variant, seed=0, clients=chat_model)  # type: ignore[arg-type]
            req = proto.build_request(item, ctx, mode="generate")
            right = i % 5 != 4
            letter = item.target if right else next(k for k in "ABCD" if k != item.target)
            raw = {
                "id": f"cmpl-{i}",
                "object": "chat.completion",
                "model": "synthetic",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": f"ANSWER: {letter}"},
                    }
                ],
                "usage": {"prompt_tokens": 60, "completion_tokens": 3, "total_tokens": 63},
            }
            call = CallRecord(
                model=model,
                kind=req.kind,
                request=req.body,
                raw=raw,
                latency_s=0.05 + rnd.random() / 10,
                usage=Usage(prompt_tokens=60, completion_tokens=3),
                key=f"{i:064x}",
                unit_id=uid,
            )
            output = {"mode": "generate", "parts": [{"use": "answer", "order": None}]}
            sample = Sample(
                unit_id=uid,
                benchmark=pb.bench.name,
                item=item,
                repeat=0,
                variant=variant,
                calls=[call],
                output=output,
                score=proto.score(item, output, [call], variant),
                started_at=t0 + i / 1000,
                duration_s=call.latency_s,
            )
            folder.append_sample(sample)
        folder.close()
        manifest.status = "complete"
        manifest.ended_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        folder.write_manifest(manifest)
        folder.write_metrics(compute_metrics(folder, manifest))
    finally:
        folder.unlock()
    return folder.path


def clone_runs(templates: list[Path], runs: Path, n_folders: int) -> None:
    """``n_folders`` run folders: each template (one benchmark) cloned per model, with that model's
    accuracy, CI and cost written through RunManifest / RunFolder.write_metrics."""
    from medevals.runs.folder import RunFolder

    rnd = random.Random(1)
    n_models = -(-n_folders // len(templates))
    made = 0
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for m in range(n_models):
        skill = rnd.uniform(0.3, 0.9)
        for t in templates:
            if made == n_folders:
                return
            src = RunFolder(t)
            manifest = src.read_manifest()
            metrics = src.read_metrics()
            name = f"{manifest.run_id}-m{m:03d}"
            manifest.run_id = name
            manifest.model.spec = f"openai:model-{m:03d}"
            manifest.model.name = f"model-{m:03d}"
            manifest.created_at = (base + dt.timedelta(minutes=made)).isoformat()
            for b in metrics["benchmarks"].values():
                acc = b["metrics"][b["primary"]]
                v = min(1.0, max(0.0, skill + rnd.uniform(-0.15, 0.15)))
                acc.update(value=v, ci_low=max(0.0, v - 0.05), ci_high=min(1.0, v + 0.05))
                b["usage"]["cost_usd"] = round(rnd.uniform(0.5, 5.0), 4)
            metrics["run_id"] = name
            dst = RunFolder(runs / name)
            dst.path.mkdir(parents=True)
            dst.write_manifest(manifest)
            dst.write_metrics(metrics)
            made += 1


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-3000:]}")
    return secs, out.stderr


def chromium_open(page: Path, work: Path) -> float | None:
    """Seconds for headless Chromium to load, lay out, run and serialise ``page`` (None: absent)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        return None
    profile = work / f"profile-{page.stem}-{time.monotonic_ns()}"
    cmd = [
        exe,
        *("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"),
        *("--disable-background-networking", "--disable-component-update"),
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    secs = time.perf_counter() - t
    shutil.rmtree(profile, ignore_errors=True)
    if out.returncode != 0 or "</body>" not in out.stdout:
        raise SystemExit(f"chromium failed on {page}: {out.stderr[-2000:]}")
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folders", type=int, default=2000)
    ap.add_argument("--benchmarks", type=int, default=30, help="benchmarks per model on the leaderboard")
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/medevals-leaderboard-scale"))
    ap.add_argument("--keep", action="store_true", help="reuse folders made by an earlier call")
    ap.add_argument("--repeat", type=int, default=3, help="timings per step (the best is reported)")
    args = ap.parse_args()

    work: Path = args.work
    runs, big_runs = work / "runs", work / "big"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    made: dict[str, float] = {}
    if not (args.keep and runs.exists() and big_runs.exists()):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        t = time.perf_counter()
        big = make_run(work, big_runs, "big", args.samples, CATEGORIES[0])
        made["write 100k-sample folder"] = time.perf_counter() - t
        t = time.perf_counter()
        tmpl_runs = work / "templates"
        templates = [
            make_run(work, tmpl_runs, f"bench{b:02d}", 20, CATEGORIES[b % len(CATEGORIES)])
            for b in range(args.benchmarks)
        ]
        clone_runs(templates, runs, args.folders)
        made[f"write {args.folders:,} leaderboard folders"] = time.perf_counter() - t
    (big,) = [p for p in big_runs.iterdir() if p.is_dir()]
    n_lines = sum(1 for _ in (big / "samples.jsonl").open("rb"))
    size_mb = (big / "samples.jsonl").stat().st_size / 1e6

    med = [sys.executable, "-m", "medevals"]
    rows: list[tuple[str, float | None, str]] = []

    def best(label: str, fn: Any, note: str = "") -> None:
        times = [fn() for _ in range(args.repeat)]
        vals = [t for t in times if t is not None]
        rows.append((label, min(vals) if vals else None, note))

    board_html = work / "leaderboard.html"
    lb = [*med, "leaderboard", str(runs), "--html", str(board_html)]

    def cold() -> float:
        (runs / "index.duckdb").unlink(missing_ok=True)
        return timed(lb, env)[0]

    best(f"leaderboard, {args.folders:,} folders, cold index (+ --html)", cold)
    best(f"leaderboard, {args.folders:,} folders, warm index (+ --html)", lambda: timed(lb, env)[0])

    def one_percent() -> float:
        from medevals.runs.folder import RunFolder

        for p in sorted(runs.iterdir())[: max(1, args.folders // 100)]:
            if p.is_dir():
                f = RunFolder(p)
                f.write_metrics(f.read_metrics())  # rewritten: a new mtime
        return timed(lb, env)[0]

    best(f"leaderboard, warm, {max(1, args.folders // 100)} folders re-written", one_percent)
    _, stderr = timed(lb, env)
    index_line = next((x for x in stderr.splitlines() if x.startswith("index:")), "")
    best(
        f"rescore {n_lines:,} samples (--no-report)",
        lambda: timed([*med, "rescore", str(big), "--no-report"], env)[0],
    )
    best(f"report {n_lines:,} samples", lambda: timed([*med, "report", str(big)], env)[0])
    blank = work / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    best("Chromium: an empty page (its own start-up)", lambda: chromium_open(blank, work))
    best(
        "report.html in Chromium",
        lambda: chromium_open(big / "report.html", work),
        f"{(big / 'report.html').stat().st_size / 1e6:.1f} MB",
    )
    best(
        "leaderboard.html in Chromium",
        lambda: chromium_open(board_html, work),
        f"{board_html.stat().st_size / 1e6:.1f} MB",
    )

    load = os.getloadavg()
    print(f"\n{n_lines:,} samples ({size_mb:.0f} MB samples.jsonl); {args.folders:,} leaderboard folders")
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"last refresh: {index_line}")
    for k, v in made.items():
        print(f"setup: {k}: {v:.1f} s")
    print(f"\n| step | best of {args.repeat} (s) | target (s) | met | note |")
    print("|---|---|---|---|---|")
    for label, secs, note in rows:
        target = next((t for k, t in TARGETS.items() if label.startswith(k)), None)
        met = "" if target is None or secs is None else ("yes" if secs < target else "**no**")
        shown = "skipped (no chromium)" if secs is None else f"{secs:.2f}"
        print(f"| {label} | {shown} | {'' if target is None else f'< {target:g}'} | {met} | {note} |")
    print(json.dumps({label: secs for label, secs, _ in rows}))


if __name__ == "__main__":
    main()
