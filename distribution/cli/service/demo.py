"""`pressroom demo`: the whole path on the embedded default, in one command."""

from __future__ import annotations

from importlib import resources

import click
from sqlalchemy.orm import Session

from distribution.audience import contacts, lists
from distribution.cli.app import App, pass_app, user_errors
from distribution.cli.sending.delivery import deliver_now
from distribution.engine import dispatch
from distribution.errors import NotFound
from distribution.releases import catalogue
from distribution.releases.parse import read_release_file
from distribution.store.db import database_now, upgrade

DEMO_LISTS = (("demo-media", True, "contacts.csv"), ("demo-subscribers", False, "subscribers.csv"))


@click.command()
@pass_app
@user_errors
def demo(app: App) -> None:
    """Set up the database, load a sample release and lists, and send it."""
    upgrade(app.engine)
    click.echo(f"Database: {app.engine.url.render_as_string(hide_password=True)}")
    data = resources.files("distribution.demo")
    with app.transaction() as session:
        for name, trusted, csv_name in DEMO_LISTS:
            _ensure_list(session, name, trusted)
            with resources.as_file(data / csv_name) as path:
                report = contacts.import_contacts(session, path, list_name=name)
            click.echo(f"List {name} ({'trusted media' if trusted else 'public'}): "
                       f"{report.imported} new contacts, {report.updated} updated")
    with resources.as_file(data / "release.txt") as path:
        parsed = read_release_file(path)
    with app.transaction() as session:
        now = database_now(session)
        item = catalogue.add_release(session, parsed, embargo=None, language=None, contacts=[],
                                     source_name="demo release", now=now)
        plan = dispatch.plan(session, item.id, [name for name, _, _ in DEMO_LISTS])
        dist, rows = dispatch.schedule(session, plan, now=now)
    click.echo(f"Release {item.id}: {item.headline}")
    click.echo(f"Sending to {rows} recipients (each address once, across both lists)…")
    deliver_now(app, dist.id, quiet=False)
    if not app.settings.smtp_url:
        click.echo("Open any .eml file there with a mail client, or try "
                   f"`pressroom release preview {item.id} --html`.")


def _ensure_list(session: Session, name: str, trusted: bool) -> None:
    try:
        lists.get_list(session, name)
    except NotFound:
        lists.create_list(session, name, trusted=trusted,
                          description="Created by `pressroom demo`")
