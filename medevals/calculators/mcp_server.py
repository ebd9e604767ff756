"""The calculator library as a Model Context Protocol server (stdio or streamable HTTP), via the ``mcp`` package.

Tools are the same as the OpenAI function tools (``calculators.tools``): one per calculator, named by
slug, with the calculator's JSON schema. A call returns the JSON result as text plus structured
content; a calculator error (missing/out-of-range/unit) is returned with ``is_error=True`` and a typed
message, so MCP clients see why, not a default.
"""

from __future__ import annotations

import json
from typing import Any


def build_server() -> Any:
    import mcp_types as types
    from mcp.server.lowlevel import Server

    from medevals.calculators.tools import openai_tools, run_tool

    specs = [t["function"] for t in openai_tools()]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=s["name"], description=s["description"], input_schema=s["parameters"])
                for s in specs
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        out = run_tool(params.name, dict(params.arguments or {}))
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(out))],
            structured_content=out,
            is_error="error" in out,
        )

    return Server(
        "medevals-calculators",
        version="1",
        instructions="Clinical calculators (MedCalc-Bench's 55): pass values in the stated units or add <param>_unit.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio() -> None:
    from mcp.server.stdio import stdio_server

    server = build_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_http(host: str, port: int, path: str = "/mcp") -> None:
    import uvicorn

    app = build_server().streamable_http_app(streamable_http_path=path, host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")
