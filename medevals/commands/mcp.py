"""``medevals mcp calculators``: serve the calculator library over MCP (stdio by default, or streamable HTTP)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Model Context Protocol servers.", no_args_is_help=True)


@app.command("calculators")
def calculators(
    transport: Annotated[str, typer.Option(help="stdio | http (streamable HTTP)")] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="HTTP port.")] = 8765,
    path: Annotated[str, typer.Option(help="HTTP endpoint path.")] = "/mcp",
) -> None:
    """Serve the 55 calculators as MCP tools (stdio for a client that spawns us; http at http://HOST:PORT/PATH)."""
    from medevals.errors import ConfigError
    from medevals.extras import require

    require("mcp", "`medevals mcp calculators`")
    import anyio

    from medevals.calculators import mcp_server

    if transport == "stdio":
        anyio.run(mcp_server.serve_stdio)
    elif transport == "http":
        typer.echo(f"MCP calculators at http://{host}:{port}{path}", err=True)
        mcp_server.serve_http(host, port, path)
    else:
        raise ConfigError(f"unknown transport '{transport}' (stdio or http)")
