"""`ragtune serve`: the live release over HTTP (FastAPI under uvicorn), reloaded when it moves."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from ragtune.cli_context import settings


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free).")] = 8000,
    poll_seconds: Annotated[
        float, typer.Option(min=0.1, help="How often to look for a newly promoted release.")
    ] = 1.0,
) -> None:
    """Answer `POST /ask` from the live release; switch releases without a restart."""
    import uvicorn

    from ragtune.errors import ReleaseError
    from ragtune.release import manifest as releases
    from ragtune.release.promote import recover
    from ragtune.serve.api import create_app
    from ragtune.serve.live import LiveRelease

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = settings()
    recover(config)
    live_id = releases.live_release_id(config.project_dir)
    if live_id is None:  # checked before any model loads
        raise ReleaseError("no release is live; run `ragtune release promote` first")
    typer.echo(f"serving release {live_id} on http://{host}:{port} (POST /ask, GET /health)")
    app = create_app(config, LiveRelease(config, poll_seconds=poll_seconds))
    uvicorn.run(app, host=host, port=port, log_level="info")
