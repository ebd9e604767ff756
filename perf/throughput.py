"""Throughput of medevals against a local OpenAI-compatible server, and against its peers.

Starts the fake server (``tests/fake_openai.py``) in its own process with a fixed latency,
writes N generated multiple-choice items (a JSONL file + a YAML custom spec, an lm-eval task
and an inspect_ai task over the same rows), and runs each harness as a user would: its real
CLI in a subprocess. The head to head also runs a bare aiohttp script over the same rows: the floor
for any Python client of this server, so the gap to it is what a harness itself costs. Per run it records:

- time to first request: from starting the command to the server seeing its first request;
- running time: first request to last reply (the server's clock); items/s over that and end to end;
- the server-bound limit, items x latency / concurrency, and the share of it a harness reaches
  (limit / running time; 100% = the server is the only bottleneck);
- CPU time (user + sys) and peak RSS of the harness process (``os.wait4``).

medevals' own overhead per item is the marginal cost at 0 ms latency: (CPU or wall of N items
- CPU or wall of N/10 items) / (0.9 N), so start-up is not smeared over the items.

By default it measures the figures of issue 18 ("one machine at the limit") and prints them as a
targets table: the head to head (200 items, C=32, 200 ms; medevals, the bare script, lm-eval,
inspect_ai in interleaved rounds, median ratio), and the scale run (10,000 items, C=256, 50 ms:
share of the server-bound limit once running, harness CPU per item from the process's own CPU
time, and peak RSS at 1,000 vs 10,000 items). The machine's load average is printed at start and
end: on a shared machine compare ratios, not absolute times.

Usage (peers run when ``--peers-python`` has ``lm_eval`` / ``inspect_ai``; ``pip install -e '.[bench]'``)::

    python perf/throughput.py --peers-python /path/to/python [--repeat 3] [--grid --items 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAKE_SERVER = ROOT / "tests" / "fake_openai.py"
sys.path.insert(0, str(ROOT / "tests"))
from genbench import write_bench  # noqa: E402  (the generated rows are shared with the robustness tests)


# -- data -------------------------------------------------------------------------------------
def write_items(folder: Path, n: int) -> Path:
    """N items "item i" whose correct letter is ABCD[i % 4] (the fake server's mcq responder knows)."""
    write_bench(folder, n, name="throughput")
    # lm-evaluation-harness task over the same rows (generate, then read "ANSWER: X").
    lm = folder / "lm_eval_task"
    lm.mkdir(exist_ok=True)
    (lm / "throughput_mcq.yaml").write_text(
        textwrap.dedent(
            f"""\
            task: throughput_mcq
            dataset_path: json
            dataset_kwargs:
              data_files:
                test: {folder / "items.jsonl"}
            test_split: test
            output_type: generate_until
            doc_to_text: "{{{{question}}}}\\nA. {{{{options.A}}}}\\nB. {{{{options.B}}}}\\nC. {{{{options.C}}}}\\nD. {{{{options.D}}}}\\nAnswer with the letter only."
            doc_to_target: "{{{{answer}}}}"
            generation_kwargs:
              until: []
              max_gen_toks: 16
              do_sample: false
            filter_list:
              - name: letter
                filter:
                  - function: regex
                    regex_pattern: "ANSWER: ([ABCD])"
                  - function: take_first
            metric_list:
              - metric: exact_match
            """
        ),
        encoding="utf-8",
    )
    (folder / "inspect_task.py").write_text(
        textwrap.dedent(
            f"""\
            from inspect_ai import Task, task
            from inspect_ai.dataset import Sample, json_dataset
            from inspect_ai.scorer import choice
            from inspect_ai.solver import multiple_choice


            def record(r):
                return Sample(id=r["id"], input=r["question"], choices=[r["options"][k] for k in "ABCD"],
                              target=r["answer"])


            @task
            def throughput_mcq():
                return Task(dataset=json_dataset({str(folder / "items.jsonl")!r}, record),
                            solver=multiple_choice(), scorer=choice())
            """
        ),
        encoding="utf-8",
    )
    return folder


# -- server -----------------------------------------------------------------------------------
class Server:
    def __init__(self, latency: float, responder: str = "mcq"):
        self.latency = latency
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKE_SERVER), "--latency", str(latency), "--responder", responder],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"fake server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _req(self, method: str, path: str) -> dict:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, data=None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def reset(self) -> None:
        self._req("POST", "/_reset")

    def stats(self) -> dict:
        return self._req("GET", "/_stats")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- runs -------------------------------------------------------------------------------------
@dataclass
class Result:
    harness: str
    items: int
    latency: float
    concurrency: int
    wall_s: float
    first_request_s: float | None
    running_s: float | None
    cpu_s: float
    peak_rss_mb: float
    requests: int
    exit_code: int
    note: str = ""

    @property
    def limit_s(self) -> float:
        return self.items * self.latency / self.concurrency

    @property
    def items_per_s(self) -> float:
        return self.items / self.wall_s

    @property
    def running_items_per_s(self) -> float | None:
        return self.items / self.running_s if self.running_s else None

    @property
    def share(self) -> float | None:
        return self.limit_s / self.running_s if self.running_s and self.latency else None


def _run(
    harness: str, cmd: list[str], env: dict[str, str], server: Server, items: int, conc: int, cwd: Path
) -> Result:
    server.reset()
    t0 = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out_chunks = []
    assert proc.stdout is not None
    for chunk in iter(lambda: proc.stdout.read(65536), b""):
        out_chunks.append(chunk)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.time() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    st = server.stats()
    first = st["first_request_t"] - t0 if st["first_request_t"] else None
    running = st["last_request_t"] + server.latency - st["first_request_t"] if st["first_request_t"] else None
    note = ""
    if proc.returncode == 0 and st["n_model_requests"] < items:
        proc.returncode = 1  # exited 0 without asking for every item: not a completed run
        note = f"only {st['n_model_requests']} of {items} requests; "
    if proc.returncode != 0:
        note += b"".join(out_chunks).decode(errors="replace")[-400:].replace("\n", " ")
    return Result(
        harness=harness,
        items=items,
        latency=server.latency,
        concurrency=conc,
        wall_s=wall,
        first_request_s=first,
        running_s=running,
        cpu_s=ru.ru_utime + ru.ru_stime,
        peak_rss_mb=ru.ru_maxrss / 1024,
        requests=st["n_model_requests"],
        exit_code=proc.returncode,
        note=note,
    )


def count_items(data: Path) -> int:
    with (data / "items.jsonl").open(encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def run_medevals(data: Path, server: Server, conc: int, work: Path, python: str) -> Result:
    runs = Path(tempfile.mkdtemp(prefix="runs-", dir=work))
    n = count_items(data)
    cmd = [
        python,
        "-m",
        "medevals",
        "run",
        "-m",
        "openai:fake-model",
        "--base-url",
        server.base_url,
        "-b",
        str(data / "spec.yaml"),
        "-c",
        str(conc),
        "--no-cache",
        "--no-report",
        "--quiet",
        "--runs-dir",
        str(runs),
        "--new",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    res = _run("medevals", cmd, env, server, n, conc, work)
    if res.exit_code == 0:
        folder = next(p for p in runs.iterdir() if p.is_dir())
        m = json.loads((folder / "metrics.json").read_text())["benchmarks"]["throughput"]
        res.note = f"accuracy {m['metrics']['accuracy']['value']:.3f}"
    shutil.rmtree(runs, ignore_errors=True)
    return res


def run_lm_eval(data: Path, server: Server, conc: int, work: Path, python: str) -> Result:
    n = count_items(data)
    out = Path(tempfile.mkdtemp(prefix="lmeval-", dir=work))
    cmd = [
        python,
        "-m",
        "lm_eval",
        "--model",
        "local-chat-completions",
        "--model_args",
        f"model=fake-model,base_url={server.base_url}/chat/completions,num_concurrent={conc},"
        "max_retries=3,tokenized_requests=False,tokenizer_backend=None",
        "--apply_chat_template",
        "--include_path",
        str(data / "lm_eval_task"),
        "--tasks",
        "throughput_mcq",
        "--output_path",
        str(out),
    ]
    env = {**os.environ, "OPENAI_API_KEY": "unused", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    res = _run("lm-eval", cmd, env, server, n, conc, work)
    if res.exit_code == 0:
        found = list(out.rglob("results*.json"))
        if found:
            r = json.loads(found[0].read_text())["results"]["throughput_mcq"]
            res.note = f"exact_match {r.get('exact_match,letter', float('nan')):.3f}"
    shutil.rmtree(out, ignore_errors=True)
    return res


def run_inspect(data: Path, server: Server, conc: int, work: Path, python: str) -> Result:
    n = count_items(data)
    logs = Path(tempfile.mkdtemp(prefix="inspect-", dir=work))
    inspect_bin = str(Path(python).parent / "inspect")
    cmd = [
        inspect_bin,
        "eval",
        os.path.relpath(data / "inspect_task.py", work),  # inspect rejects absolute task paths
        "--model",
        "openai/fake-model",
        "-M",
        "responses_api=false",  # the fake server (like most local servers) speaks chat completions
        "--max-connections",
        str(conc),
        "--log-dir",
        str(logs),
        "--display",
        "none",
        "--log-format",
        "json",
    ]
    env = {**os.environ, "OPENAI_API_KEY": "unused", "OPENAI_BASE_URL": server.base_url}
    res = _run("inspect_ai", cmd, env, server, n, conc, work)
    if res.exit_code == 0:
        for log in logs.glob("*.json"):
            j = json.loads(log.read_text())
            if j.get("status") != "success":
                res.exit_code, res.note = 1, f"inspect status {j.get('status')}"
            scores = j.get("results", {}).get("scores", [])
            if scores:
                acc = scores[0]["metrics"].get("accuracy", {}).get("value")
                res.note = f"accuracy {acc:.3f}" if acc is not None else ""
    shutil.rmtree(logs, ignore_errors=True)
    return res


BARE_AIOHTTP = """\
import asyncio, json, re, sys

import aiohttp


async def main(items, url, conc, out):
    rows = [json.loads(line) for line in open(items)]
    sem, answer = asyncio.Semaphore(conc), re.compile(r"ANSWER: ([ABCD])")
    async with aiohttp.ClientSession() as session:

        async def one(r):
            opts = "\\n".join(f"{k}. {v}" for k, v in r["options"].items())
            body = {"model": "fake-model", "max_tokens": 16, "temperature": 0,
                    "messages": [{"role": "user", "content": f"{r['question']}\\n{opts}\\nAnswer with the letter."}]}
            async with sem, session.post(url + "/chat/completions", json=body) as resp:
                reply = (await resp.json())["choices"][0]["message"]["content"]
            m = answer.search(reply)
            return m is not None and m.group(1) == r["answer"]

        ok = await asyncio.gather(*(one(r) for r in rows))
    open(out, "w").write(str(sum(ok) / len(ok)))


asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


def run_bare_aiohttp(data: Path, server: Server, conc: int, work: Path, python: str) -> Result:
    """The floor for any Python harness on aiohttp: read the JSONL, one session, a semaphore of C,
    regex the letter. No run folder, no cache, no CLI, so nothing a harness must do is in it."""
    n = count_items(data)
    script, out = work / "bare_aiohttp.py", work / "bare_aiohttp.out"
    script.write_text(BARE_AIOHTTP, encoding="utf-8")
    cmd = [python, str(script), str(data / "items.jsonl"), server.base_url, str(conc), str(out)]
    res = _run("bare aiohttp script", cmd, dict(os.environ), server, n, conc, work)
    if res.exit_code == 0:
        res.note = f"accuracy {float(out.read_text()):.3f}"
    return res


def has_module(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


# -- report -----------------------------------------------------------------------------------
def _f(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def table(results: list[Result]) -> str:
    head = (
        "| harness | items | latency | C | first request (s) | end to end (s) | items/s end to end "
        "| items/s running | server-bound limit (s) | share of limit | CPU (s) | CPU ms/item "
        "| peak RSS (MB) | requests | check |"
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        rows.append(
            f"| {r.harness} | {r.items} | {r.latency * 1000:.0f} ms | {r.concurrency} "
            f"| {_f(r.first_request_s, '.2f')} | {r.wall_s:.2f} | {r.items_per_s:.1f} "
            f"| {_f(r.running_items_per_s, '.1f')} | {r.limit_s:.2f} | {_f(r.share and r.share * 100, '.0f')}"
            f"{'%' if r.share else ''} | {r.cpu_s:.2f} | {r.cpu_s / r.items * 1000:.2f} "
            f"| {r.peak_rss_mb:.0f} | {r.requests} | {r.note if r.exit_code == 0 else 'FAILED: ' + r.note} |"
        )
    return "\n".join(rows)


# -- targets (issue 18, "One machine at the limit") -----------------------------------------
@dataclass
class Target:
    what: str
    measured: str
    goal: str
    met: bool | None  # None: not measured (a peer missing)


def targets_table(rows: list[Target]) -> str:
    out = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for t in rows:
        met = "-" if t.met is None else ("**yes**" if t.met else "**no**")
        out.append(f"| {t.what} | {t.measured} | {t.goal} | {met} |")
    return "\n".join(out)


def _ratios(rounds: list[dict[str, Result]], a: str, b: str) -> list[float]:
    return [r[a].items_per_s / r[b].items_per_s for r in rounds if a in r and b in r and r[b].exit_code == 0]


def _median_and_range(xs: list[float], fmt: str, unit: str = "") -> str:
    m, lo, hi = statistics.median(xs), min(xs), max(xs)
    return f"{m:{fmt}}{unit} (range {lo:{fmt}}-{hi:{fmt}}{unit}, {len(xs)} rounds)"


def run_targets(args: argparse.Namespace, work: Path, results: list[Result], show) -> list[Target]:
    """The issue's figures: the head to head (--h2h-*), then the scale run (--scale-*)."""
    rows: list[Target] = []
    peers = []
    if not args.no_peers:
        for module, name, fn in (
            ("lm_eval", "lm-eval", run_lm_eval),
            ("inspect_ai", "inspect_ai", run_inspect),
        ):
            if has_module(args.peers_python, module):
                peers.append((name, fn))
            else:
                print(f"{module} not importable by {args.peers_python}: skipped", flush=True)
    # 1. Head to head: the same items, server and C for every harness, in interleaved rounds so a
    #    change in the machine's load hits each harness alike.
    data = write_items(work / "h2h", args.h2h_items)
    server = Server(args.h2h_latency)
    rounds: list[dict[str, Result]] = []
    try:
        for _ in range(args.repeat):
            rnd: dict[str, Result] = {}
            for name, fn, py in (
                ("medevals", run_medevals, sys.executable),
                ("bare aiohttp script", run_bare_aiohttp, sys.executable),
                *((n, f, args.peers_python) for n, f in peers),
            ):
                r = fn(data, server, args.h2h_concurrency, work, py)
                rnd[name] = r
                results.append(r)
                show(r)
            rounds.append(rnd)
    finally:
        server.stop()
    setting = f"{args.h2h_items} items, C={args.h2h_concurrency}, {args.h2h_latency * 1000:.0f} ms"
    for peer, _ in peers:
        xs = _ratios(rounds, "medevals", peer)
        rows.append(
            Target(
                f"{setting}: medevals / {peer}, items/s end to end",
                _median_and_range(xs, ".2f", "x") if xs else "peer failed",
                ">= 5x",
                statistics.median(xs) >= 5 if xs else None,
            )
        )
    for peer in ("lm-eval", "inspect_ai"):
        if peer not in dict(peers):
            rows.append(Target(f"{setting}: medevals / {peer}", "peer not installed", ">= 5x", None))
    xs = _ratios(rounds, "medevals", "bare aiohttp script")
    rows.append(
        Target(
            f"{setting}: medevals / bare aiohttp script, items/s end to end",
            _median_and_range(xs, ".3f"),
            ">= 0.90 (within 10%)",
            statistics.median(xs) >= 0.9,
        )
    )
    # 2. At scale: N items at high C and short latency, and N/10 for the marginal cost and RSS.
    big_n, small_n, c, lat = (
        args.scale_items,
        max(1, args.scale_items // 10),
        args.scale_concurrency,
        args.scale_latency,
    )
    big, small = write_items(work / "scale", big_n), write_items(work / "scale-small", small_n)
    server = Server(lat)
    runs: dict[str, list[Result]] = {"big": [], "small": [], "bare": []}
    try:
        for _ in range(args.scale_repeat):
            for key, fn, d in (
                ("small", run_medevals, small),
                ("big", run_medevals, big),
                ("bare", run_bare_aiohttp, big),
            ):
                r = fn(d, server, c, work, sys.executable)
                runs[key].append(r)
                results.append(r)
                show(r)
    finally:
        server.stop()
    setting = f"{big_n:,} items, C={c}, {lat * 1000:.0f} ms"
    ok_big = [r for r in runs["big"] if r.exit_code == 0 and r.share]
    ok_bare = [r for r in runs["bare"] if r.exit_code == 0 and r.share]
    if ok_big:
        shares = [r.share * 100 for r in ok_big]
        rows.append(
            Target(
                f"{setting}: medevals' share of the server-bound limit once running",
                _median_and_range(shares, ".1f", "%"),
                ">= 95%",
                statistics.median(shares) >= 95,
            )
        )
    if ok_bare:
        shares = [r.share * 100 for r in ok_bare]
        rows.append(
            Target(
                f"{setting}: the bare aiohttp script's share (the floor on this machine)",
                _median_and_range(shares, ".1f", "%"),
                "reference",
                None,
            )
        )
    if ok_big:
        per = [r.cpu_s / r.items * 1000 for r in ok_big]
        rows.append(
            Target(
                f"{setting}: medevals process CPU (user+sys) / items, start-up included",
                _median_and_range(per, ".3f", " ms"),
                "< 0.5 ms",
                statistics.median(per) < 0.5,
            )
        )
        if ok_bare:
            floor = [r.cpu_s / r.items * 1000 for r in ok_bare]
            rows.append(
                Target(
                    f"{setting}: the bare aiohttp script's process CPU / items (the floor on this machine)",
                    _median_and_range(floor, ".3f", " ms"),
                    "reference",
                    None,
                )
            )
        pairs = [
            (b, s) for b, s in zip(runs["big"], runs["small"], strict=True) if b.exit_code == s.exit_code == 0
        ]
        if pairs:
            marg = [(b.cpu_s - s.cpu_s) / (b.items - s.items) * 1000 for b, s in pairs]
            rows.append(
                Target(
                    f"{setting}: medevals marginal CPU per item ({small_n:,} -> {big_n:,} items)",
                    _median_and_range(marg, ".3f", " ms"),
                    "< 0.5 ms",
                    statistics.median(marg) < 0.5,
                )
            )
            rss_s = max(s.peak_rss_mb for _, s in pairs)
            rss_b = max(b.peak_rss_mb for b, _ in pairs)
            rows.append(
                Target(
                    f"{setting}: medevals peak RSS, {small_n:,} -> {big_n:,} items",
                    f"{rss_s:.0f} -> {rss_b:.0f} MB ({(rss_b / rss_s - 1) * 100:+.1f}%)",
                    "flat: <= +10%",
                    rss_b <= 1.1 * rss_s,
                )
            )
    return rows


def run_grid(args: argparse.Namespace, work: Path, results: list[Result], show) -> None:
    """medevals alone over --items x --concurrency x --latencies (and N/10 at 0 ms: marginal cost)."""
    concs = [int(c) for c in args.concurrency.split(",")]
    lats = [float(x) for x in args.latencies.split(",")]
    data = write_items(work / "data", args.items)
    small = write_items(work / "small", max(1, args.items // 10))
    for lat in lats:
        server = Server(lat)
        try:
            for c in concs:
                results.append(run_medevals(data, server, c, work, sys.executable))
                show(results[-1])
            if lat == 0:
                results.append(run_medevals(small, server, max(concs), work, sys.executable))
                show(results[-1])
        finally:
            server.stop()
    zero = [
        r
        for r in results
        if r.harness == "medevals" and r.latency == 0 and r.items in (args.items, small_n(args))
    ]
    if len(zero) >= 2:
        big = max(zero, key=lambda r: (r.items, r.concurrency))
        sm = min((r for r in zero if r.concurrency == big.concurrency), key=lambda r: r.items)
        if big.items > sm.items:
            d = big.items - sm.items
            print(
                f"\nmedevals overhead per item at 0 ms latency (marginal, C={big.concurrency}, "
                f"{sm.items} -> {big.items} items): CPU {(big.cpu_s - sm.cpu_s) / d * 1000:.3f} ms, "
                f"wall {(big.wall_s - sm.wall_s) / d * 1000:.3f} ms; peak RSS {sm.peak_rss_mb:.0f} MB -> "
                f"{big.peak_rss_mb:.0f} MB"
            )


def small_n(args: argparse.Namespace) -> int:
    return max(1, args.items // 10)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of the head to head (median ratio)")
    ap.add_argument("--h2h-items", type=int, default=200)
    ap.add_argument("--h2h-concurrency", type=int, default=32)
    ap.add_argument("--h2h-latency", type=float, default=0.2)
    ap.add_argument("--scale-items", type=int, default=10_000)
    ap.add_argument("--scale-concurrency", type=int, default=256)
    ap.add_argument("--scale-latency", type=float, default=0.05)
    ap.add_argument("--scale-repeat", type=int, default=3)
    ap.add_argument("--peers-python", default=sys.executable, help="a python with lm_eval / inspect_ai")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-targets", action="store_true", help="skip the issue's figures (grid only)")
    ap.add_argument("--grid", action="store_true", help="also run medevals over the grid below")
    ap.add_argument("--items", type=int, default=2000, help="grid: items")
    ap.add_argument("--concurrency", default="8,32,128", help="grid: concurrencies")
    ap.add_argument("--latencies", default="0.2,0", help="grid: latencies (s)")
    args = ap.parse_args()

    # Bytecode as a user's second run has it (the first run writes it), whatever PYTHONDONTWRITEBYTECODE
    # says: compiling ~400 modules from source would add ~0.3 s to medevals' start-up only.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "medevals")], check=True, capture_output=True
    )
    print(f"start: {_load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="medevals-throughput-"))
    results: list[Result] = []

    def show(r: Result) -> None:
        print(table([r]).splitlines()[-1], flush=True)

    rows: list[Target] = []
    try:
        if not args.no_targets:
            rows = run_targets(args, work, results, show)
        if args.grid:
            run_grid(args, work, results, show)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"end: {_load()}")
    print()
    print(table(results))
    if rows:
        print()
        print(targets_table(rows))


if __name__ == "__main__":
    main()
