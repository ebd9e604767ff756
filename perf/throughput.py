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

Usage (peers run when ``--peers-python`` has ``lm_eval`` / ``inspect_ai``; ``pip install -e '.[bench]'``)::

    python perf/throughput.py --items 2000 --peer-items 200 --peers-python /path/to/python
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--concurrency", default="8,32,128")
    ap.add_argument("--latencies", default="0.2,0")
    ap.add_argument("--peer-items", type=int, default=200, help="items for the head-to-head with peers")
    ap.add_argument("--peer-concurrency", type=int, default=32)
    ap.add_argument("--memory-items", type=int, default=0, help="also run this many items (RSS check)")
    ap.add_argument("--peers-python", default=sys.executable, help="a python with lm_eval / inspect_ai")
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()

    concs = [int(c) for c in args.concurrency.split(",")]
    lats = [float(x) for x in args.latencies.split(",")]
    work = Path(tempfile.mkdtemp(prefix="medevals-throughput-"))
    results: list[Result] = []
    try:
        data = write_items(work / "data", args.items)
        small = write_items(work / "small", max(1, args.items // 10))
        peer_data = write_items(work / "peer", args.peer_items)
        for lat in lats:
            server = Server(lat)
            try:
                for c in concs:
                    results.append(run_medevals(data, server, c, work, sys.executable))
                    print(table(results[-1:]).splitlines()[-1], flush=True)
                if lat == 0:
                    c = max(concs)
                    results.append(run_medevals(small, server, c, work, sys.executable))
                    print(table(results[-1:]).splitlines()[-1], flush=True)
                    if args.memory_items:
                        big = write_items(work / "big", args.memory_items)
                        results.append(run_medevals(big, server, c, work, sys.executable))
                        print(table(results[-1:]).splitlines()[-1], flush=True)
            finally:
                server.stop()
        # Head to head on the same items, server and concurrency.
        lat = max(lats)
        server = Server(lat)
        try:
            results.append(run_medevals(peer_data, server, args.peer_concurrency, work, sys.executable))
            print(table(results[-1:]).splitlines()[-1], flush=True)
            results.append(run_bare_aiohttp(peer_data, server, args.peer_concurrency, work, sys.executable))
            print(table(results[-1:]).splitlines()[-1], flush=True)
            if not args.no_peers:
                for module, fn in (("lm_eval", run_lm_eval), ("inspect_ai", run_inspect)):
                    if has_module(args.peers_python, module):
                        results.append(fn(peer_data, server, args.peer_concurrency, work, args.peers_python))
                        print(table(results[-1:]).splitlines()[-1], flush=True)
                    else:
                        print(f"{module} not importable by {args.peers_python}: skipped", flush=True)
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(table(results))
    zero = [r for r in results if r.harness == "medevals" and r.latency == 0]
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
    h2h = [r for r in results if r.items == args.peer_items and r.latency == max(lats)]
    me = next((r for r in h2h if r.harness == "medevals"), None)
    for r in h2h:
        if me and r.harness != "medevals" and r.exit_code == 0:
            print(
                f"medevals vs {r.harness} on {r.items} items end to end: {me.items_per_s / r.items_per_s:.2f}x"
            )


if __name__ == "__main__":
    main()
