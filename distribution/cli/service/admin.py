"""`pressroom init` and `pressroom config`."""

from __future__ import annotations

import click

from distribution.cli.app import App, emit_json, pass_app, user_errors
from distribution.store.db import upgrade


@click.command()
@pass_app
@user_errors
def init(app: App) -> None:
    """Create the database, or upgrade it to the current schema."""
    before, after = upgrade(app.engine)
    where = app.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"Database is up to date (schema {after}): {where}")
    else:
        click.echo(f"Database ready (schema {before or 'new'} -> {after}): {where}")


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def show_config(app: App, as_json: bool) -> None:
    """Print the effective settings, secrets masked."""
    shown = app.settings.masked()
    if as_json:
        emit_json(shown)
        return
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        click.echo(f"{key.ljust(width)}  {value}")
