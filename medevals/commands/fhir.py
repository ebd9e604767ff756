"""``medevals fhir``: the FHIR R4 sandbox with seeded synthetic patients, as a standalone server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medevals.commands.output import out

app = typer.Typer(help="FHIR R4 sandbox with synthetic patients (for EHR-agent tasks).", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port (the FHIR base is http://HOST:PORT/fhir/).")
    ] = 8080,
    patients: Annotated[int, typer.Option(min=1, help="Synthetic patients to generate.")] = 300,
    seed: Annotated[int, typer.Option(help="Generator seed (same seed, same record).")] = 0,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to keep the record and writes in (default: in memory).")
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, max=1000, help="Default search page size (_count).")] = 100,
) -> None:
    """Serve the sandbox until interrupted; `medevals run -b ehr-agent --fhir-base-url URL` can use it.

    Example:

        medevals fhir serve --port 8080 --patients 300 --seed 0
    """
    import sqlite3

    from medevals.errors import ConfigError
    from medevals.extras import require

    require("fhir", "`medevals fhir serve`")
    import uvicorn

    from medevals.fhir.serve import sandbox_app

    store_path = str(db) if db else ":memory:"
    try:
        app_ = sandbox_app(patients, seed, store_path, page_size)
    except sqlite3.Error as e:  # a folder, a missing folder, not a database
        raise ConfigError(f"--db {db}: cannot open it as the sandbox's SQLite file ({e})") from None
    out.print(f"FHIR sandbox: {patients} synthetic patients (seed {seed}) at http://{host}:{port}/fhir/")
    uvicorn.run(app_, host=host, port=port, log_level="warning")
