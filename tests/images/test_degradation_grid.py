"""A degradation grid run gives its table (accuracy, paired delta, ECE and calibration shift per
degradation x severity) and its plots, recomputed by hand from the stored samples."""

from __future__ import annotations

import shutil

from clihelp import run_cli, run_ok
from fake_openai import answer_from_images
from imgfixtures import image_spec, png_bytes, write

from medevals.scoring.calibration import ece


def _set(tmp_path, n: int = 16):
    data = tmp_path / "data"
    rows = []
    for i in range(n):
        write(data / f"{i}.png", png_bytes(i + 1, size=(48, 40)))
        rows.append(
            {
                "id": f"q{i}",
                "question": "Abnormal?",
                "options": ["yes", "no", "unclear", "artefact"],
                "answer": "ABCD"[i % 4],
                "image": f"{i}.png",
            }
        )
    return image_spec(data, rows, extra="taxonomy: {category: Imaging}\n")


def test_grid_tables_and_plots(fake_server, tmp_path, capsys):
    spec = _set(tmp_path)
    server = fake_server(responder=answer_from_images)
    folder = run_ok(
        server,
        tmp_path,
        capsys,
        "--strategy",
        "degrade:noise,blur@1,2,3",
        "--set",
        "mode=likelihood",
        benchmark=str(spec),
        report=True,
    )
    samples = list(folder.iter_samples())
    assert len(samples) == 16 * 7
    extra = folder.read_metrics()["benchmarks"]["img-set"]["extra"]
    table = next(t for t in extra["tables"] if t["title"].startswith("Image degradations"))
    assert [(r[0], r[1]) for r in table["rows"]] == [
        (k, s) for k in ("noise", "blur") for s in ("1", "2", "3")
    ]

    clean = {s.item.id: s for s in samples if s.variant == "zero-shot"}
    for row in table["rows"]:
        deg = {s.item.id: s for s in samples if s.variant == f"degrade:{row[0]}@{row[1]}"}
        assert row[3] == 16
        d = sum(deg[k].score.value - clean[k].score.value for k in deg) / 16
        assert row[6].startswith(f"{100 * d:+.1f} pts")
        e0 = ece([clean[k].score.confidence for k in clean], [clean[k].score.value for k in clean])
        e1 = ece([deg[k].score.confidence for k in deg], [deg[k].score.value for k in deg])
        assert row[8] == f"{e0:.3f}" and row[9] == f"{e1:.3f}" and row[10] == f"{e1 - e0:+.3f}"
    plots = {p["title"]: p for p in extra["plots"]}
    acc = plots["Accuracy vs degradation severity (0 = clean)"]
    assert [s["name"] for s in acc["series"]] == ["noise", "blur"]
    assert [p[0] for p in acc["series"][0]["points"]] == [0, 1, 2, 3]
    assert "ECE vs degradation severity (0 = clean)" in plots
    # the strategy grid does not list degraded variants as strategies
    grid = next(t for t in extra["tables"] if t["title"].startswith("Strategies"))
    assert [r[0] for r in grid["rows"]] == ["zero-shot"]
    html = (folder.path / "report.html").read_text()
    assert "Accuracy vs degradation severity" in html and "Image degradations" in html

    # rescore rebuilds the same tables from the stored samples, without the model or the images
    shutil.rmtree(folder.path / "images")
    code, _, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0, err
    again = folder.read_metrics()["benchmarks"]["img-set"]["extra"]
    assert (
        next(t for t in again["tables"] if t["title"].startswith("Image degradations"))["rows"]
        == table["rows"]
    )
