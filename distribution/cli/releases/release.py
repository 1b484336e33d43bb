"""`pressroom release add|list|show|preview` (embargo and correct: cli/embargo.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from distribution.audience.viewer import viewer_for
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.lazy import Lazy, LazyGroup
from distribution.embargo.notices import family
from distribution.engine import dispatch
from distribution.errors import InvalidInput
from distribution.mail.preview import Viewer, preview_bytes
from distribution.releases import catalogue, intake
from distribution.releases.parse import read_release_file
from distribution.store.db import database_now

# Changes after copies went out need the delivery machinery: imported when they run.
AFTER_SENDING = {
    "delete": Lazy("distribution.cli.releases.drafts:delete",
                   "Delete a draft; a release that was sent can only be corrected or withdrawn."),
    "edit": Lazy("distribution.cli.releases.drafts:edit",
                 "Edit a draft in $EDITOR (front matter and text); saved after the checks of add."),
    "correct": Lazy("distribution.cli.releases.embargo:correct",
                    "Send a corrected FILE to those who received the release."),
    "embargo": Lazy("distribution.cli.releases.embargo:embargo",
                    "Move, lift or withdraw the embargo; tell who received it."),
}


@click.group(cls=LazyGroup, lazy=AFTER_SENDING)
def release() -> None:
    """Add, edit, delete, inspect, preview, re-embargo and correct press releases."""


@release.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--embargo", metavar="WHEN", help="Embargo until: '2025-04-16 09:00 Europe/Zurich'.")
@click.option("--no-embargo", is_flag=True, help="Ignore an embargo line in the file.")
@click.option("--language", metavar="CODE", help="Language of the release (en, fr, ar…).")
@click.option("--contact", "contacts", multiple=True, metavar='"Name <email> phone"',
              help="Media contact (repeatable); replaces the file's.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def add(app: App, file: Path, embargo: str | None, no_embargo: bool, language: str | None,
        contacts: tuple[str, ...], as_json: bool) -> None:
    """Load a release FILE (text, Markdown or Word) as a draft, and say what was read."""
    parsed = read_release_file(file)
    flags = intake.Flags(embargo, no_embargo, catalogue.checked_language(language),
                         catalogue.contacts_from_flags(contacts))
    with app.transaction() as session:
        info, warnings = intake.add_parsed(session, parsed, flags, app.settings,
                                           source_name=file.name)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        emit_json({**info, "warnings": warnings})
        return
    click.echo(intake.report(info))


@release.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def list_releases(app: App, as_json: bool) -> None:
    """All releases, oldest first."""
    with app.transaction() as session:
        rows = [catalogue.describe(r, app.settings) for r in catalogue.all_releases(session)]
    if as_json:
        emit_json([{k: r[k] for k in ("id", "headline", "status", "language", "dateline_date",
                                       "embargo_until")} for r in rows])
        return
    for r in rows:
        embargo = f"  embargoed until {r['embargo_display']}" if r["embargo_display"] else ""
        click.echo(f"{r['id']:>4}  {r['status']:<9}  {r['headline'][:70]}{embargo}")


@release.command("show")
@click.argument("release_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def show(app: App, release_id: int, as_json: bool) -> None:
    """Every field of one release."""
    with app.transaction() as session:
        item = dispatch.get_release(session, release_id)
        info = catalogue.describe(item, app.settings)
        info["held_deliveries"] = catalogue.held_count(session, release_id)
        info["withdrawn_at"] = item.withdrawn_at.isoformat() if item.withdrawn_at else None
        info["corrects_id"] = item.corrects_id
        info["corrected_by"] = [r.id for r in family(session, release_id) if r.id > release_id]
    if as_json:
        emit_json(info)
        return
    if info["end_marker_added"]:
        info["end_marker"] = f"{info['end_marker']} (added: the text has none)"
    for key, value in info.items():
        if key in _NOT_LISTED or value in (None, "", [], False):
            continue
        click.echo(f"{_LABELS.get(key, key.replace('_', ' '))}: {value}")
    click.echo("")
    click.echo(info["body"])


# The embargo is shown once, in the organisation's zone and in UTC (embargo_display).
_NOT_LISTED = {"body", "boilerplate", "embargo_until", "end_marker_added"}
_LABELS = {"embargo_display": "embargoed until", "embargo_zone": "embargo given in"}


@release.command("preview")
@click.argument("release_id", type=ROW_ID)
@click.option("--text", "part", flag_value="text", default=True, help="The plain-text part.")
@click.option("--html", "part", flag_value="html", help="The HTML part.")
@click.option("--eml", "part", flag_value="eml", help="The whole message (.eml).")
@click.option("--as", "as_address", metavar="ADDRESS",
              help="The copy this contact would get (their list, zone and footer).")
@click.option("--public", is_flag=True, help="The copy a public subscriber gets at the lift.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@pass_app
@user_errors
def preview(app: App, release_id: int, part: str, as_address: str | None, public: bool,
            out: Path | None) -> None:
    """Show the email a recipient would receive."""
    if as_address and public:
        raise InvalidInput("--as and --public name different readers; give one")
    with app.transaction() as session:
        item = dispatch.get_release(session, release_id)
        session.expunge(item)
        now = database_now(session)
        viewer = viewer_for(session, as_address) if as_address else None
    if viewer is not None or public:
        click.echo(copy_note(viewer), err=True)
    data = preview_bytes(app.settings, item, part, now, viewer, public=public)
    if out:
        write_file(out, data)
        click.echo(f"Wrote {out}", err=True)
    else:
        sys.stdout.buffer.write(data)


def copy_note(viewer: Viewer | None) -> str:
    """Whose copy is shown, in a line on stderr."""
    if viewer is not None:
        where = (f"on {viewer.list_name} ({'trusted' if viewer.trusted else 'public'})"
                 if viewer.list_name else "on no list")
        return f"The copy of {viewer.email}, {where}."
    return "The copy of a public subscriber, as it goes out at the lift."


def write_file(path: Path, data: bytes) -> None:
    """Written aside, then renamed: a failure leaves no half-written file."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
