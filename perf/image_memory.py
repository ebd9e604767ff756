"""Memory of an image run: peak RSS stays flat from a few hundred to 10,000 images.

Writes N distinct generated PNGs (``--size`` pixels square) and a custom spec over them, starts
the image-aware fake server (``tests/fake_openai.py --responder images``: it decodes every image
and answers from its hash) in its own process, and runs ``medevals run`` as a user would, in a
subprocess, for each N. Per run: wall time, CPU, peak RSS of the medevals process (``os.wait4``),
images stored in the run folder, and bytes per line of samples.jsonl (which holds image hashes,
never base64). Images are read and encoded when a request is built and the data URI exists only
while its request is in flight, so RSS should not grow with N.

    python perf/image_memory.py --items 200,10000 --concurrency 32
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from throughput import Server, _run  # noqa: E402  (one fake-server runner for every benchmark)


def write_images(folder: Path, n: int, size: int) -> Path:
    """N distinct PNGs (a gradient shifted per image) and a 4-option image MCQ spec over them."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "img").mkdir(exist_ok=True)
    rows = []
    base = Image.linear_gradient("L").resize((size, size))
    for i in range(n):
        r, g = i % 251, (i // 251) % 251
        img = Image.merge(
            "RGB",
            (
                base.point(lambda v, r=r: (v + r) % 256),
                base.rotate(90).point(lambda v, g=g: (v + g) % 256),
                base,
            ),
        )
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        (folder / "img" / f"{i:05d}.png").write_bytes(buf.getvalue())
        rows.append(
            {
                "id": f"q{i}",
                "question": f"Image question {i}: which finding?",
                "options": ["a", "b", "c", "d"],
                "answer": "ABCD"[i % 4],
                "image": f"img/{i:05d}.png",
            }
        )
    (folder / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "spec.yaml").write_text(
        "name: image-memory\ndata: items.jsonl\nfields:\n  id: id\n  question: question\n  options: options\n"
        "  answer: answer\n  images: image\n",
        encoding="utf-8",
    )
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", default="200,10000", help="comma-separated image counts")
    ap.add_argument("--size", type=int, default=256, help="image side in pixels")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--strategy", default="zero-shot", help="e.g. degrade:blur@1 to convert every image")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medevals-image-memory-"))
    server = Server(0.0, responder="images")
    rows = []
    try:
        for n in (int(x) for x in args.items.split(",")):
            data = write_images(work / f"data-{n}", n, args.size)
            runs = work / f"runs-{n}"
            cmd = [
                sys.executable, "-m", "medevals", "run", "-m", "openai:fake-vlm", "--base-url", server.base_url,
                "-b", str(data / "spec.yaml"), "-c", str(args.concurrency), "--strategy", args.strategy,
                "--no-cache", "--no-report", "--quiet", "--runs-dir", str(runs), "--new",
            ]  # fmt: skip
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            n_variants = len(args.strategy.split(",")) + (
                1 if "degrade:" in args.strategy and "zero-shot" not in args.strategy else 0
            )
            res = _run("medevals", cmd, env, server, n * n_variants, args.concurrency, work)
            folder = next(p for p in runs.iterdir() if p.is_dir())
            stored = len(list((folder / "images").iterdir()))
            samples = folder / "samples.jsonl"
            lines = sum(1 for _ in samples.open(encoding="utf-8"))
            per_line = samples.stat().st_size / max(lines, 1)
            b64 = "base64" in samples.read_text(encoding="utf-8")
            digest = hashlib.sha256(samples.read_bytes()).hexdigest()[:8]
            rows.append((n, res, stored, lines, per_line, b64, digest))
            print(
                f"{n:>6} images: exit {res.exit_code}, wall {res.wall_s:.1f}s, CPU {res.cpu_s:.1f}s, "
                f"peak RSS {res.peak_rss_mb:.0f} MB, {res.requests} requests, {stored} images stored, "
                f"samples.jsonl {per_line:.0f} bytes/line, base64 in samples: {b64} {res.note}",
                flush=True,
            )
            shutil.rmtree(runs, ignore_errors=True)
            shutil.rmtree(data, ignore_errors=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(
        "\n| images | size | concurrency | strategy | wall (s) | CPU (s) | peak RSS (MB) | images stored | samples.jsonl bytes/line |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, res, stored, _lines, per_line, _b64, _d in rows:
        print(
            f"| {n:,} | {args.size}x{args.size} | {args.concurrency} | {args.strategy} | {res.wall_s:.1f} | "
            f"{res.cpu_s:.1f} | {res.peak_rss_mb:.0f} | {stored:,} | {per_line:.0f} |"
        )


if __name__ == "__main__":
    main()
