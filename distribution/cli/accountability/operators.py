"""`pressroom operators add|list|remove|set-role`, and `lists restrict`'s rule."""

from __future__ import annotations

import click

from distribution.accountability import Role
from distribution.accountability import operators as ops
from distribution.cli.app import App, emit_json, pass_app, user_errors

ROLES = click.Choice([r.value for r in Role], case_sensitive=False)


@click.group("operators")
def operators_group() -> None:
    """Operators and their roles: add, list, remove, set-role.

    Roles: editor (draft, import, send approved releases), approver (also approve), admin
    (also operators, lists and settings). With no operators, anyone may do anything; the
    first operator added is an admin.
    """


@operators_group.command("add")
@click.argument("name")
@click.option("--role", type=ROLES, default="editor", show_default=True)
@pass_app
@user_errors
def add(app: App, name: str, role: str) -> None:
    """Add operator NAME with a role."""
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "operator.add", f"operator {name}")
        operator = ops.add_operator(session, actor, name, Role(role.lower()))
    click.echo(f"Operator '{name}' added as {operator.role}.")


@operators_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def list_operators(app: App, as_json: bool) -> None:
    """Every operator, with their role and the restricted lists they may send to."""
    with app.transaction() as session:
        rows = ops.all_operators(session)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No operators: anyone may run every command. Add one with "
                   "`pressroom operators add NAME`.")
    for r in rows:
        lists = f"  may send to {', '.join(r['may_send_to'])}" if r["may_send_to"] else ""
        click.echo(f"{r['name']:<20} {r['role']:<9}{lists}")


@operators_group.command("remove")
@click.argument("name")
@pass_app
@user_errors
def remove(app: App, name: str) -> None:
    """Remove operator NAME (the log keeps what they did)."""
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "operator.remove", f"operator {name}")
        ops.remove_operator(session, actor, name)
    click.echo(f"Operator '{name}' removed.")


@operators_group.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLES)
@pass_app
@user_errors
def set_role(app: App, name: str, role: str) -> None:
    """Give operator NAME another ROLE."""
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "operator.set-role", f"operator {name}")
        ops.set_role(session, actor, name, Role(role.lower()))
    click.echo(f"Operator '{name}' is now {role.lower()}.")
