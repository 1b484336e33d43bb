"""`pressroom demo`: the whole path on the embedded default, in one command."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

import click
from sqlalchemy.orm import Session

from config import Settings, data_dir
from config.private import private_folder
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
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the demo's own database and outbox [default: demo in the "
                   "data directory].")
@pass_app
@user_errors
def demo(app: App, home: Path | None) -> None:
    """Load a sample release and lists into a demo database of their own, and send it.

    Never the configured database or SMTP server: the release and its six recipients are
    fictional, and they stay in the demo folder (.eml files)."""
    app = _demo_app(app.settings, home or data_dir() / "demo")
    try:
        _run(app)
    finally:
        app.close()


def _demo_app(settings: Settings, home: Path) -> App:
    private_folder(home)
    return App(_settings=replace(settings, database_url=f"sqlite:///{home / 'pressroom.db'}",
                                 outbox=str(home / "outbox"), smtp_url="", broker_url=""))


def _run(app: App) -> None:
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
    click.echo("Open any .eml file there with a mail client. The demo's database is its own: "
               "your newsroom is unchanged.")


def _ensure_list(session: Session, name: str, trusted: bool) -> None:
    try:
        lists.get_list(session, name)
    except NotFound:
        lists.create_list(session, name, trusted=trusted,
                          description="Created by `pressroom demo`")
