"""`pressroom log`: read the audit log."""

from __future__ import annotations

import click

from distribution import times
from distribution.accountability import log
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.store.db import database_now


@click.command("log")
@click.option("--release", "release_id", type=ROW_ID, metavar="ID",
              help="Only entries about this release (its sends and notices too).")
@click.option("--operator", metavar="NAME", help="Only what this operator did.")
@click.option("--since", metavar="WHEN", help="From this time: '2025-04-16 09:00 Europe/Zurich'.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def show_log(app: App, release_id: int | None, operator: str | None, since: str | None,
             as_json: bool) -> None:
    """The audit log: who changed what, when and from where."""
    with app.transaction() as session:
        start = times.parse_when(since, app.settings.timezone or None,
                                 now=database_now(session)).utc if since else None
        rows = [log.as_dict(e) for e in log.entries(session, release_id=release_id,
                                                    actor=operator, since=start)]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['at'][:19]}  {r['actor']:<14} {r['action']:<22} {r['object']:<16} "
                   f"{r['summary']}  [{r['origin']}]")
