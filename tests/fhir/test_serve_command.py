"""``medevals fhir serve`` as a user runs it: a real HTTP server with the synthetic record."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from extras_skip import needs

from medevals.fhir.serve import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@needs("fhir")
def test_fhir_serve_answers_searches_and_creates(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "record.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "medevals",
            "fhir",
            "serve",
            "--port",
            str(port),
            "--patients",
            "12",
            "--db",
            str(db),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"{base}/Patient", params={"_count": 5})
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        bundle = r.json()
        assert bundle["total"] == 12 and len(bundle["entry"]) == 5
        assert any(lk["relation"] == "next" and lk["url"].startswith(base) for lk in bundle["link"])
        mrn = bundle["entry"][0]["resource"]["id"]
        r = httpx.post(
            f"{base}/ServiceRequest",
            json={
                "resourceType": "ServiceRequest",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{mrn}"},
            },
        )
        assert r.status_code == 201
        assert httpx.get(f"{base}/ServiceRequest", params={"patient": mrn}).json()["total"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert db.stat().st_size > 0  # the record and the write were kept in the SQLite file
