"""rescore with the scoring in a forked worker writes the same samples.jsonl and metrics.json,
byte for byte, as the one-process path, on a file with every case the rewrite handles."""

import json
import shutil

import pytest
from clihelp import run_ok
from fake_openai import mcq_by_item_number

from medevals.errors import RunError
from medevals.protocols.mcq import MCQProtocol
from medevals.runs import rescore as rs
from medevals.runs.folder import RunFolder


def _messy_folder(fake_server, tmp_path, capsys) -> RunFolder:
    """A run whose file is out of unit order, holds a failed attempt before its retry, wrong stored
    scores (rescore changes them) and a unit that failed for good."""
    folder = run_ok(fake_server(responder=mcq_by_item_number), tmp_path, capsys, "--limit", "12")
    lines = folder.samples_path.read_bytes().splitlines(keepends=True)
    by_uid = {json.loads(x)["unit_id"]: x for x in lines}
    uids = sorted(by_uid)
    out = [*reversed(lines)]
    for uid in uids[:4]:  # wrong stored scores
        d = json.loads(by_uid[uid])
        d["score"]["value"] = 1.0 - d["score"]["value"]
        out[out.index(by_uid[uid])] = json.dumps(d).encode() + b"\n"
    failed = json.loads(by_uid[uids[5]])
    failed.update(score=None, error="model call failed: 500")
    out.insert(0, json.dumps(failed).encode() + b"\n")  # an attempt superseded by its retry
    gone = json.loads(by_uid[uids[7]])
    gone.update(score=None, error="model call failed: 500")
    out[out.index(by_uid[uids[7]])] = json.dumps(gone).encode() + b"\n"  # failed for good
    folder.samples_path.write_bytes(b"".join(out))
    return folder


def test_parallel_rescore_is_byte_identical_to_serial(fake_server, tmp_path, capsys, monkeypatch):
    folder = _messy_folder(fake_server, tmp_path / "run", capsys)
    twin = RunFolder(tmp_path / "twin")
    shutil.copytree(folder.path, twin.path)
    monkeypatch.setattr(rs, "CHUNK", 3)  # several chunks, the last one short

    serial = rs._rescore(folder, parallel=False)
    parallel = rs._rescore(twin, parallel=True)
    assert serial["rescored_changed"] == parallel["rescored_changed"] == 4
    assert twin.samples_path.read_bytes() == folder.samples_path.read_bytes()
    assert twin.metrics_path.read_bytes() == folder.metrics_path.read_bytes()
    # again on the file rescore wrote (one line per unit, in order: read straight through)
    assert rs._rescore(twin, parallel=True)["rescored_changed"] == 0
    assert twin.samples_path.read_bytes() == folder.samples_path.read_bytes()
    assert twin.metrics_path.read_bytes() == folder.metrics_path.read_bytes()


def test_a_scoring_failure_in_the_worker_stops_rescore_and_keeps_the_file(
    fake_server, tmp_path, capsys, monkeypatch
):
    folder = _messy_folder(fake_server, tmp_path, capsys)
    before = folder.samples_path.read_bytes()
    monkeypatch.setattr(rs, "CHUNK", 3)

    def broken(self, item, output, calls, variant="default"):
        if item.id.endswith("3"):
            raise ValueError(f"cannot score {item.id}")
        return original(self, item, output, calls, variant)

    original = MCQProtocol.score
    monkeypatch.setattr(MCQProtocol, "score", broken)  # inherited by the forked worker
    with pytest.raises(ValueError, match="cannot score"):
        rs._rescore(folder, parallel=True)
    assert folder.samples_path.read_bytes() == before
    assert not folder.samples_path.with_suffix(".jsonl.rescore").exists()


def test_unreadable_line_names_its_line_in_parallel_too(fake_server, tmp_path, capsys):
    folder = _messy_folder(fake_server, tmp_path, capsys)
    lines = folder.samples_path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"benchmark"', b'"benchmarkX"', 1)
    folder.samples_path.write_bytes(b"".join(lines))
    with pytest.raises(RunError, match=r"samples.jsonl:3: unreadable sample"):
        rs._rescore(folder, parallel=True)
