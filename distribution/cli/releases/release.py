"""`pressroom release add|list|show|preview` (embargo and correct: cli/embargo.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from config.private import write_private
from distribution import embargo
from distribution.accountability import Role, approval, release_added, release_changed
from distribution.audience.viewer import viewer_for
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.lazy import Lazy, LazyGroup
from distribution.engine import dispatch
from distribution.errors import InvalidInput
from distribution.mail.preview import Viewer, preview_bytes
from distribution.media import catalogue as media_catalogue
from distribution.media.mailing import NO_DISTRIBUTION, message_media
from distribution.releases import catalogue, intake
from distribution.releases.parse import read_release_file
from distribution.store.db import database_now
from distribution.store.models import Release

# Commands with heavier imports (the delivery machinery, Pillow): imported when they run.
AFTER_SENDING = {
    "attach": Lazy("distribution.cli.releases.media:attach",
                   "Add a photo or document FILE to a release not yet sent."),
    "detach": Lazy("distribution.cli.releases.media:detach",
                   "Remove photo or file MEDIA_ID from a release not yet sent."),
    "photos": Lazy("distribution.cli.releases.media:photos",
                   "How the release's photos travel in email: linked (default) or embedded."),
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
@click.option("--version-of", "version_of", type=ROW_ID, metavar="ID",
              help="Add FILE as another language version of release ID.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def add(app: App, file: Path, embargo: str | None, no_embargo: bool, language: str | None,
        contacts: tuple[str, ...], version_of: int | None, as_json: bool) -> None:
    """Load a release FILE (text, Markdown or Word) as a draft, or as a language version of
    another, and say what was read."""
    parsed = read_release_file(file)
    if version_of is not None and (embargo or no_embargo or parsed.photos):
        raise InvalidInput("a language version shares its original's embargo, photos and "
                           "files; change them on the original release")
    flags = intake.Flags(embargo, no_embargo, catalogue.checked_language(language),
                         catalogue.contacts_from_flags(contacts))
    photos = media_catalogue.front_matter_uploads(parsed.photos, file.parent, app.settings)
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "release.add", f"file {file.name}")
        if version_of is None:
            info, warnings = intake.add_parsed(session, parsed, flags, app.settings,
                                               source_name=file.name)
        else:
            info, warnings = intake.add_version(session, parsed, version_of, flags,
                                                app.settings, source_name=file.name)
        item = session.get_one(Release, info["id"])
        media_catalogue.attach_all(session, app.settings, item, photos)
        release_added(session, actor, item, f"added from {file.name}: {item.headline[:120]}")
        if item.version_of_id is not None:  # the original goes out with it: a change to it
            release_changed(session, actor, session.get_one(Release, item.version_of_id),
                            "release.version", f"{item.language} version added as release "
                            f"{item.id}")
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
        info = catalogue.details(session, item, app.settings)
        info["media"] = [media_catalogue.describe(m, app.settings)
                         for m in media_catalogue.media_of(session, release_id)]
        info["inline_photos"] = media_catalogue.inline_photos(session, release_id)
        info["approval"] = approval.describe(item)
        info["versions"] = [{"id": v.id, "language": v.language}
                            for v in catalogue.versions(session, item)]
    if as_json:
        emit_json(info)
        return
    if info["end_marker_added"]:
        info["end_marker"] = f"{info['end_marker']} (added: the text has none)"
    for key, value in info.items():
        if key in _NOT_LISTED or value in (None, "", [], False):
            continue
        if key == "versions":
            value = ", ".join(f"{v['language']} (release {v['id']})" for v in value)
        elif key == "corrected_by":
            value = ", ".join(str(v) for v in value)
        elif key == "family_id":
            value = f"/releases/{value}"
        click.echo(f"{_LABELS.get(key, key.replace('_', ' '))}: {value}")
    for media in info["media"]:
        click.echo(f"{media['kind']} {media['id']}: {media['filename']} {media['public_url']}")
    click.echo(f"approval: {_approval_line(info['approval'])}")
    click.echo("")
    click.echo(info["body"])


# The embargo is shown once, in the organisation's zone and in UTC (embargo_display).
_NOT_LISTED = {"body", "boilerplate", "embargo_until", "media", "inline_photos", "approval",
               "end_marker_added"}
_LABELS = {"embargo_display": "embargoed until", "embargo_zone": "embargo given in",
           "version_of": "language version of release", "versions": "language versions",
           "family_id": "public address", "corrected_by": "corrected by releases"}


def _approval_line(info: dict[str, Any]) -> str:
    by = f"; last changed by {info['changed_by']}" if info["changed_by"] else ""
    if info["approved"]:
        return (f"revision {info['approved_revision']} approved by {info['approved_by']} at "
                f"{info['approved_at']}{by}")
    if info["approved_by"]:
        return (f"none for revision {info['revision']} (revision {info['approved_revision']} "
                f"was approved by {info['approved_by']} at {info['approved_at']}){by}")
    return f"not approved (revision {info['revision']}){by}"


@release.command("approve")
@click.argument("release_id", type=ROW_ID)
@pass_app
@user_errors
def approve(app: App, release_id: int) -> None:
    """Approve release RELEASE_ID for sending (an approver other than its author)."""
    with app.transaction() as session:
        actor = app.acting(session, Role.APPROVER, "release.approve", f"release {release_id}",
                           release_id)
        resumed = approval.approve(session, actor, release_id, database_now(session))
        revision = dispatch.get_release(session, release_id).revision
    click.echo(f"Release {release_id} revision {revision} approved by {actor.name}.")
    if resumed:
        from distribution.cli.sending.operate import kick  # delivery: only when needed

    for distribution_id in resumed:
        click.echo(f"Distribution {distribution_id}, which waited for this approval, goes on.")
        kick(app, distribution_id)


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
        now = database_now(session)
        viewer = viewer_for(session, as_address) if as_address else None
        trusted = viewer.trusted if viewer is not None else not public
        media = message_media(session, app.settings, release_id,
                              distribution_id=NO_DISTRIBUTION,
                              signed=trusted and embargo.marked(item.embargo_until, now))
        session.expunge(item)
    if viewer is not None or public:
        click.echo(copy_note(viewer), err=True)
    data = preview_bytes(app.settings, item, part, now, viewer, public=public, media=media)
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
    """Written whole or not at all (a preview may hold embargoed text: owner only)."""
    try:
        write_private(path, data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
