"""`pressroom lists create|rename|delete|list|show`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import click

from distribution.accountability import Role, record
from distribution.accountability.operators import restrict_list
from distribution.audience.lists import (
    all_lists,
    create_list,
    delete_list,
    list_summary,
    rename_list,
)
from distribution.cli.app import App, emit_json, pass_app, user_errors


@click.group("lists")
def lists_group() -> None:
    """Mailing lists: trusted media lists and public lists."""


@lists_group.command("create")
@click.argument("name")
@click.option("--trusted", is_flag=True,
              help="Media who may be sent embargoed releases before the embargo lifts.")
@click.option("--open-signup", is_flag=True, help="Open to the public subscribe form.")
@click.option("--description", metavar="TEXT", help="What the list is for.")
@click.option("--title", metavar="TEXT",
              help="The name the public reads: sign-up pages, email footers, List-Id.")
@pass_app
@user_errors
def create(app: App, name: str, trusted: bool, open_signup: bool,
           description: str | None, title: str | None) -> None:
    """Create a mailing list named NAME (letters, digits, '-', '_', '.')."""
    kind = "trusted" if trusted else "public"
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "list.create", f"list {name}")
        create_list(session, name, trusted=trusted, open_signup=open_signup,
                    description=description, title=title)
        record(session, actor, "list.create", f"list {name}",
               f"created {kind} list{' open to sign-up' if open_signup else ''}")
    click.echo(f"Created {kind} list '{name}'.")


@lists_group.command("restrict")
@click.argument("name")
@click.argument("operators", nargs=-1)
@pass_app
@user_errors
def restrict(app: App, name: str, operators: tuple[str, ...]) -> None:
    """Only OPERATORS may send to list NAME; none named: anyone may again."""
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "list.restrict", f"list {name}")
        allowed = restrict_list(session, actor, name, operators)
    who = ", ".join(allowed) if allowed else "any operator"
    click.echo(f"List '{name}': {who} may send to it.")


@lists_group.command("rename")
@click.argument("name")
@click.argument("new_name", required=False)
@click.option("--title", metavar="TEXT", help="A new public title ('' removes it).")
@pass_app
@user_errors
def rename(app: App, name: str, new_name: str | None, title: str | None) -> None:
    """Rename list NAME to NEW_NAME, or give it a new --title (its members follow)."""
    if new_name is None and title is None:
        raise click.UsageError("give NEW_NAME, --title, or both")
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "list.rename", f"list {name}")
        renamed = rename_list(session, name, new_name, title=title)
        shown = f"'{renamed.name}'" + (f" (“{renamed.title}”)" if renamed.title else "")
        record(session, actor, "list.rename", f"list {name}", f"now {shown}")
    click.echo(f"List '{name}' is now {shown}.")


@lists_group.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
@user_errors
def delete(app: App, name: str, yes: bool) -> None:
    """Delete list NAME and its memberships; suppressed addresses stay suppressed."""
    with app.transaction() as session:
        members = list_summary(session, name).members
    if not yes and not click.confirm(f"Delete list '{name}' and its {members} memberships? "
                                     "This cannot be undone.", err=True):
        raise click.ClickException("nothing deleted")
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "list.delete", f"list {name}")
        removed = delete_list(session, name)
        record(session, actor, "list.delete", f"list {name}",
               f"deleted with {removed} memberships; suppressions kept")
    click.echo(f"Deleted list '{name}' and {removed} memberships.")


@lists_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def list_lists(app: App, as_json: bool) -> None:
    """Show every list with its number of subscribed members."""
    with app.transaction() as session:
        found = all_lists(session)
    rows = [{"name": s.name, "trusted": s.trusted, "members": s.members} for s in found]
    if as_json:
        emit_json(rows)
    elif not rows:
        click.echo("No lists yet; create one with `pressroom lists create NAME`.")
    else:
        print_table(["name", "trusted", "members"],
                    [[r["name"], plain(r["trusted"]), r["members"]] for r in rows])


@lists_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def show(app: App, name: str, as_json: bool) -> None:
    """Show one list: settings and number of subscribed members."""
    with app.transaction() as session:
        summary = list_summary(session, name)
    shown = dataclasses.asdict(summary)
    shown["created_at"] = summary.created_at.isoformat(timespec="seconds")
    if as_json:
        emit_json(shown)
        return
    for key, value in shown.items():
        click.echo(f"{key + ':':<13}{plain(value)}")


def plain(value: object) -> str:
    """A value as a person reads it: yes/no, nothing for None."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Columns padded to their widest value; the last column is not padded."""
    text = [[str(v) for v in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in text) for i in range(len(headers) - 1)]
    for row in text:
        padded = [value.ljust(width) for value, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*padded, row[-1]]).rstrip())
