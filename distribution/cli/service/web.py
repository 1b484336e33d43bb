"""`pressroom web`: serve the subscriber pages and the public newsroom."""

from __future__ import annotations

import logging

import click

from distribution.cli.app import App, pass_app, user_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@pass_app
@user_errors
def web(app: App, host: str, port: int) -> None:
    """Serve unsubscribe, sign-up and preference pages, and the newsroom (uvicorn)."""
    import uvicorn

    from distribution.web import create_app

    web_app = create_app(app.settings, app.Session)  # checks the schema before listening
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"Serving {app.settings.org_name} on http://{host}:{port} "
               f"(public address {app.settings.base_url})")
    # uvicorn's access log would record client addresses and query strings: ours does not.
    uvicorn.run(web_app, host=host, port=port, access_log=False, server_header=False)
