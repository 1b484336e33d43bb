"""`pressroom release edit|delete`: fixing a draft in an editor, or removing it."""

from __future__ import annotations

import os
import tempfile

import click

from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.engine import dispatch
from distribution.errors import InvalidInput, PressroomError
from distribution.releases import drafts, intake


@click.command("edit")
@click.argument("release_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def edit(app: App, release_id: int, as_json: bool) -> None:
    """Edit a draft in $EDITOR (front matter and text); saved after the checks of add."""
    with app.transaction() as session:
        item = dispatch.get_release(session, release_id)
        drafts.check_editable(item)
        text = drafts.editable_text(item)
    edited = click.edit(text, extension=".txt", require_save=True)
    if edited is None or edited == text:
        click.echo(f"No changes; release {release_id} is as it was.", err=True)
        return
    try:
        with app.transaction() as session:
            item = dispatch.get_release(session, release_id)
            drafts.check_editable(item)  # it may have been sent while the editor was open
            info, warnings = intake.update_from_text(session, item, edited, app.settings)
    except PressroomError as exc:
        raise InvalidInput(f"{exc} (nothing saved; your text is in {_keep(edited)})") from None
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        emit_json({**info, "warnings": warnings})
        return
    click.echo(intake.report(info).replace(" added: ", " saved: ", 1))


@click.command("delete")
@click.argument("release_id", type=ROW_ID)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
@user_errors
def delete(app: App, release_id: int, yes: bool) -> None:
    """Delete a draft; a release that was sent can only be corrected or withdrawn."""
    with app.transaction() as session:
        item = dispatch.get_release(session, release_id)
        drafts.check_editable(item)
        headline = item.headline
    if not yes:
        click.confirm(f"Delete draft {release_id} ({headline[:60]})?", abort=True)
    with app.transaction() as session:
        drafts.delete_draft(session, dispatch.get_release(session, release_id))
    click.echo(f"Release {release_id} deleted.")


def _keep(text: str) -> str:
    """Keep a rejected edit in a private file, so that the work is not lost."""
    handle, name = tempfile.mkstemp(prefix="pressroom-release-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8") as file:  # mkstemp makes it 0600
        file.write(text)
    return name
