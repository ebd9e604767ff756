"""Report: per-sample thumbnails embedded as data: URIs (small, from the run folder's store only,
captions escaped), under a CSP that allows images from data: and nothing fetched or run."""

from __future__ import annotations

import base64
import io
import json
import re

from clihelp import run_ok
from fake_openai import answer_from_images
from imgfixtures import image_spec, png_bytes, write
from PIL import Image

from medevals.report.html import render_html
from medevals.runs.folder import RunFolder


def test_thumbnails_escaped_and_confined_to_the_store(fake_server, tmp_path, capsys):
    data = tmp_path / "data"
    write(data / "big.png", png_bytes(1, size=(640, 480)))
    write(data / "small.png", png_bytes(2, size=(40, 30)))
    spec = image_spec(
        data,
        [
            {
                "id": "a",
                "question": "Q?",
                "options": ["x", "y"],
                "answer": "A",
                "image": ["big.png", "small.png"],
            },
            {"id": "b", "question": "Q?", "options": ["x", "y"], "answer": "B", "image": "small.png"},
        ],
    )
    server = fake_server(responder=answer_from_images)
    folder = run_ok(server, tmp_path, capsys, benchmark=str(spec), report=True)
    html = (folder.path / "report.html").read_text()
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:;' in html
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert len(srcs) == 3 and all(s.startswith("data:image/jpeg;base64,") for s in srcs)
    for s in srcs:
        with Image.open(io.BytesIO(base64.b64decode(s.split(",", 1)[1]))) as im:
            assert max(im.size) <= 160
    assert "640×480" in html and 'alt="image 2"' in html

    # a tampered samples.jsonl: a caption with markup and a reference outside the store
    lines = folder.samples_path.read_text().splitlines()
    # item "a" (two images): samples are written in completion order, so find its line
    k = next(i for i, line in enumerate(lines) if json.loads(line)["item"]["id"] == "a")
    s0 = json.loads(lines[k])
    s0["output"]["images"][0]["label"] = "<script>alert(1)</script>"
    s0["output"]["images"][1]["ref"] = "../../../../etc/passwd"
    lines[k] = json.dumps(s0)
    folder.samples_path.write_text("\n".join(lines) + "\n")
    html = render_html([RunFolder(folder.path)])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "image 2: not in the run folder" in html
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', html)) == 2
