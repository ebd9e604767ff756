"""A real MCP client session (mcp package) lists and calls the calculator tools over stdio and streamable HTTP."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from extras_skip import needs

pytestmark = needs("mcp")

ROOT = Path(__file__).resolve().parents[2]


async def _exercise(session) -> None:
    await session.initialize()
    tools = (await session.list_tools()).tools
    names = {t.name for t in tools}
    assert len(tools) == 55 and {"ckd_epi_2021", "bmi", "apache_ii", "mme"} <= names
    bmi = next(t for t in tools if t.name == "bmi")
    assert set(bmi.input_schema["required"]) == {"weight", "height"}
    res = await session.call_tool(
        "ckd_epi_2021", {"age": 50, "sex": "Female", "creatinine": 88.4, "creatinine_unit": "µmol/L"}
    )
    assert not res.is_error
    out = json.loads(res.content[0].text)
    assert out["result"] == pytest.approx(68.6, abs=0.1)
    bad = await session.call_tool("bmi", {"weight": 70})
    assert bad.is_error and json.loads(bad.content[0].text)["error_type"] == "MissingParameter"


def test_stdio_client_lists_and_calls_tools():
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    async def main():
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "medevals", "mcp", "calculators"], cwd=str(ROOT)
        )
        with anyio.fail_after(60):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await _exercise(session)

    anyio.run(main)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_streamable_http_client_lists_and_calls_tools():
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "medevals", "mcp", "calculators", "--transport", "http", "--port", str(port)],
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("MCP HTTP server did not start: " + proc.stderr.read().decode()[:500])

        async def main():
            with anyio.fail_after(60):
                async with (
                    streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams,
                    ClientSession(streams[0], streams[1]) as session,
                ):
                    await _exercise(session)

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
