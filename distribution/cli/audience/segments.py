"""`pressroom segments create|list|delete`: saved audiences to send to by name."""

from __future__ import annotations

import click

from distribution.accountability import Role, record
from distribution.audience import segments
from distribution.cli.app import App, emit_json, pass_app, user_errors
from distribution.store.db import database_now


@click.group("segments")
def segments_group() -> None:
    """Saved audiences: lists narrowed by beat, country, language… sent to by name."""


@segments_group.command("create")
@click.argument("name")
@click.option("--list", "lists", multiple=True, metavar="NAME", help="A list (repeatable).")
@click.option("--where", "wheres", multiple=True, metavar="FIELD=VALUE[,VALUE]",
              help="Only members whose field is one of the values (repeatable).")
@pass_app
@user_errors
def create(app: App, name: str, lists: tuple[str, ...], wheres: tuple[str, ...]) -> None:
    """Save segment NAME: the members of the lists that match every --where."""
    conditions = segments.parse_where(wheres)
    narrowed = f" whose {segments.describe(conditions)}" if conditions else ""
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "segment.create", f"segment {name}")
        segments.create_segment(session, name, list(lists), conditions, database_now(session))
        record(session, actor, "segment.create", f"segment {name}",
               f"members of {', '.join(lists)}{narrowed}"[:200])
    click.echo(f"Created segment '{name}': members of {', '.join(lists)}{narrowed}.")


@segments_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def list_segments(app: App, as_json: bool) -> None:
    """Every saved segment with its lists and conditions."""
    with app.transaction() as session:
        found = segments.all_segments(session)
    rows = [{"name": s.name, "lists": s.list_names, "where": s.conditions} for s in found]
    if as_json:
        emit_json(rows)
        return
    for s in found:
        where = f" whose {segments.describe(s.conditions)}" if s.conditions else ""
        click.echo(f"{s.name}: {', '.join(s.list_names)}{where}")
    if not rows:
        click.echo("No segments yet; save one with `pressroom segments create NAME --list …`.")


@segments_group.command("delete")
@click.argument("name")
@pass_app
@user_errors
def delete(app: App, name: str) -> None:
    """Delete segment NAME (its lists and contacts stay)."""
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "segment.delete", f"segment {name}")
        segments.delete_segment(session, name)
        record(session, actor, "segment.delete", f"segment {name}", "deleted")
    click.echo(f"Deleted segment '{name}'.")
