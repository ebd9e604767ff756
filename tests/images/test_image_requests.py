"""Images reach the model intact, in order, as data URIs; records hold only hashes; the cache keys on content.

The fake server's image-aware mode answers from a hash of the image bytes it decoded, so a right
answer proves the bytes and their order survived the trip.
"""

from __future__ import annotations

import json
from pathlib import Path

from clihelp import run_cli, run_fake, run_ok
from fake_openai import answer_from_images, image_hash_letter
from imgfixtures import image_spec, jpeg_bytes, png_bytes, sha, write
from PIL import Image


def _rows(folder: Path) -> tuple[list[dict], dict[str, list[str]]]:
    """Three items: one PNG, one JPEG, one with two images; expected hashes per item, in order."""
    a = write(folder / "imgs" / "covid-19-pneumonia-a.png", png_bytes(1))
    b = write(folder / "imgs" / "b.jpg", jpeg_bytes(2))
    c = write(folder / "imgs" / "c.png", png_bytes(3))
    rows = [
        {
            "id": "i1",
            "question": "What is shown?",
            "options": ["x", "y", "z", "w"],
            "answer": "A",
            "image": "imgs/covid-19-pneumonia-a.png",
        },
        {
            "id": "i2",
            "question": "Which view?",
            "options": ["x", "y", "z"],
            "answer": "B",
            "image": "imgs/b.jpg",
        },
        {
            "id": "i3",
            "question": "Which is later?",
            "options": ["first", "second"],
            "answer": "B",
            "image": ["imgs/c.png", "imgs/covid-19-pneumonia-a.png"],
        },
    ]
    hashes = {
        "i1": [sha(a.read_bytes())],
        "i2": [sha(b.read_bytes())],
        "i3": [sha(c.read_bytes()), sha(a.read_bytes())],
    }
    return rows, hashes


def test_images_arrive_intact_in_order_and_records_hold_hashes(fake_server, tmp_path, capsys):
    rows, hashes = _rows(tmp_path / "data")
    spec = image_spec(tmp_path / "data", rows)
    server = fake_server(responder=answer_from_images)
    cache = tmp_path / "cache.sqlite"
    folder = run_ok(server, tmp_path, capsys, benchmark=str(spec), cache=cache)

    got = {}
    for req in server.requests:
        text = json.dumps(req["body"])
        qid = next(r["id"] for r in rows if r["question"] in text)
        got[qid] = req["image_hashes"]
        assert "covid-19-pneumonia" not in text  # file names never reach the prompt
    assert got == hashes

    letters = {"i1": "ABCD", "i2": "ABC", "i3": "AB"}
    samples = list(folder.iter_samples())
    assert len(samples) == 3
    for s in samples:
        want = image_hash_letter(hashes[s.item.id], list(letters[s.item.id]))
        assert s.score is not None and s.score.answer == want, s.item.id
        assert [im["ref"] for im in s.output["images"]] == [
            f"images/{h}.{'jpg' if s.item.id == 'i2' else 'png'}" for h in hashes[s.item.id]
        ]
        # the stored request names the image by its reference, the hash; no base64 anywhere
        req_text = json.dumps(s.calls[0].request)
        assert all(h in req_text for h in hashes[s.item.id]) and "base64" not in req_text

    # each distinct image stored once in the run folder, byte-identical to the source
    stored = sorted(p.name for p in (folder.path / "images").iterdir())
    assert stored == sorted(
        {f"{h}.{'jpg' if h == hashes['i2'][0] else 'png'}" for hs in hashes.values() for h in hs}
    )
    for p in (folder.path / "images").iterdir():
        assert sha(p.read_bytes()) == p.name.split(".")[0]
    for name in ("samples.jsonl", "manifest.json", "metrics.json"):
        assert "base64" not in (folder.path / name).read_text()
    assert b"base64" not in cache.read_bytes()

    # the same command again: answered from the cache, nothing sent
    n = len(server.requests)
    run_ok(server, tmp_path / "again", capsys, benchmark=str(spec), cache=cache)
    assert len(server.requests) == n


def test_cache_keys_on_image_content_not_path(fake_server, tmp_path, capsys):
    data = tmp_path / "data"
    write(data / "one.png", png_bytes(5))
    write(data / "copy-of-one.png", png_bytes(5))
    write(data / "other.png", png_bytes(6))
    q = {"question": "Abnormal?", "options": ["yes", "no"], "answer": "A"}
    rows = [
        {"id": "a", **q, "image": "one.png"},
        {"id": "b", **q, "image": "copy-of-one.png"},  # same bytes, same question: same request
        {"id": "c", **q, "image": "other.png"},
    ]
    spec = image_spec(data, rows)
    server = fake_server(responder=answer_from_images)
    folder = run_ok(server, tmp_path, capsys, "-c", "1", benchmark=str(spec), cache=tmp_path / "c.sqlite")
    sent = sorted(h for r in server.requests for h in r["image_hashes"])
    assert len(server.requests) == 2 and sent == sorted([sha(png_bytes(5)), sha(png_bytes(6))])
    assert sum(1 for s in folder.iter_samples() if s.calls[0].cached) == 1


def test_rgba_and_grey_images_are_sent_as_rgb_png(fake_server, tmp_path, capsys):
    data = tmp_path / "data"
    write(data / "rgba.png", png_bytes(7, mode="RGBA"))
    write(data / "grey.jpg", jpeg_bytes(8, mode="L"))
    q = {"question": "Abnormal?", "options": ["yes", "no"], "answer": "A"}
    spec = image_spec(data, [{"id": "r", **q, "image": "rgba.png"}, {"id": "g", **q, "image": "grey.jpg"}])
    server = fake_server(responder=answer_from_images)
    folder = run_ok(server, tmp_path, capsys, benchmark=str(spec))
    files = list((folder.path / "images").iterdir())
    assert len(files) == 2
    for p in files:
        assert p.suffix == ".png"
        with Image.open(p) as im:
            assert im.mode == "RGB"
    sent = {h for r in server.requests for h in r["image_hashes"]}
    assert sent == {p.stem for p in files}


def test_max_side_resizes_and_is_recorded(fake_server, tmp_path, capsys):
    data = tmp_path / "data"
    write(data / "big.png", png_bytes(9, size=(200, 100)))
    spec = image_spec(
        data, [{"id": "x", "question": "Q?", "options": ["a", "b"], "answer": "A", "image": "big.png"}]
    )
    server = fake_server(responder=answer_from_images)
    folder = run_ok(server, tmp_path, capsys, "--set", "image_max_side=50", benchmark=str(spec))
    (p,) = (folder.path / "images").iterdir()
    with Image.open(p) as im:
        assert im.size == (50, 25)
    assert folder.read_manifest().benchmarks[0].options["image_max_side"] == 50


def test_text_only_model_refused_before_first_request(tmp_path, capsys):
    data = tmp_path / "data"
    write(data / "a.png", png_bytes(1))
    spec = image_spec(
        data, [{"id": "x", "question": "Q?", "options": ["a", "b"], "answer": "A", "image": "a.png"}]
    )
    runs = tmp_path / "runs"
    code, out, err = run_cli(
        ["run", "-m", "builtin:gemma3-270m", "-b", str(spec), "--runs-dir", str(runs), "--no-cache"], capsys
    )
    assert code == 2
    assert "takes text only" in err + out and "vllm serve" in err + out
    assert not runs.exists() or not any(runs.iterdir())


def test_missing_image_file_names_file_line_and_field(tmp_path, capsys):
    data = tmp_path / "data"
    spec = image_spec(
        data, [{"id": "x", "question": "Q?", "options": ["a", "b"], "answer": "A", "image": "nope.png"}]
    )
    code, out, err = run_cli(
        [
            "run",
            "-m",
            "openai:x",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "-b",
            str(spec),
            "--runs-dir",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert code == 2
    assert "items.jsonl:1" in err + out and "field 'image'" in err + out and "nope.png" in err + out


def test_degrade_strategy_sends_seeded_degraded_images(fake_server, tmp_path, capsys):
    data = tmp_path / "data"
    write(data / "a.png", png_bytes(11, size=(64, 48)))
    spec = image_spec(
        data, [{"id": "x", "question": "Q?", "options": ["a", "b"], "answer": "A", "image": "a.png"}]
    )
    server = fake_server(responder=answer_from_images)
    stored = []
    for run in ("one", "two"):
        folder = run_ok(
            server, tmp_path / run, capsys, "--strategy", "degrade:blur,noise@2", benchmark=str(spec)
        )
        by_variant = {s.variant: s.output["images"][0]["ref"] for s in folder.iter_samples()}
        assert set(by_variant) == {"zero-shot", "degrade:blur@2", "degrade:noise@2"}
        assert by_variant["zero-shot"] == f"images/{sha(png_bytes(11, size=(64, 48)))}.png"
        assert len(set(by_variant.values())) == 3
        stored.append(by_variant)
    assert stored[0] == stored[1]  # same seed: the same degraded bytes, run after run
    sent = {h for r in server.requests for h in r["image_hashes"]}
    assert sent == {ref.split("/")[1].split(".")[0] for ref in stored[0].values()}


def test_degrade_strategy_on_a_text_benchmark_is_refused(fake_server, tmp_path, capsys):
    server = fake_server()
    code, out, err = run_cli(
        [
            "run",
            "-m",
            "openai:x",
            "--base-url",
            server.base_url,
            "-b",
            "demo",
            "--strategy",
            "degrade:noise@1",
            "--runs-dir",
            str(tmp_path / "r"),
            "--no-cache",
        ],
        capsys,
    )
    assert code == 2 and "has no images" in err + out
    assert server.requests == []


def test_url_images_are_fetched_stored_and_sent_by_content(fake_server, tmp_path, capsys):
    import http.server
    import threading
    from functools import partial

    served = tmp_path / "www"
    write(served / "scan.png", png_bytes(21))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        q = {"question": "Q?", "options": ["a", "b"], "answer": "A"}
        spec = image_spec(tmp_path / "data", [{"id": "u", **q, "image": f"{base}/scan.png"}])
        server = fake_server(responder=answer_from_images)
        folder = run_ok(server, tmp_path, capsys, benchmark=str(spec))
        assert server.requests[0]["image_hashes"] == [sha(png_bytes(21))]
        assert (folder.path / "images" / f"{sha(png_bytes(21))}.png").exists()
        assert base not in json.dumps(server.requests[0]["body"])  # the URL itself is not sent

        spec = image_spec(tmp_path / "data2", [{"id": "v", **q, "image": f"{base}/missing.png"}])
        code, out, err, folder = run_fake(
            server, tmp_path, capsys, benchmark=str(spec), runs=tmp_path / "runs2"
        )
        samples = list(folder.iter_samples()) if folder else []
        assert code != 0 or (samples and samples[0].error)
        assert "HTTP 404" in (samples[0].error if samples else err + out)
    finally:
        httpd.shutdown()
