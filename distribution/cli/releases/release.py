"""`pressroom release add|list|show|preview` (embargo and correct: cli/embargo.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from distribution import embargo
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.lazy import Lazy, LazyGroup
from distribution.embargo.notices import family
from distribution.engine import dispatch
from distribution.errors import InvalidInput
from distribution.mail.preview import preview_bytes
from distribution.media import catalogue as media_catalogue
from distribution.media.mailing import NO_DISTRIBUTION, message_media
from distribution.releases import catalogue
from distribution.releases.parse import read_release_file
from distribution.store.db import database_now

# Commands with heavier imports (the delivery machinery, Pillow): imported when they run.
AFTER_SENDING = {
    "attach": Lazy("distribution.cli.releases.media:attach",
                   "Add a photo or document FILE to a release not yet sent."),
    "detach": Lazy("distribution.cli.releases.media:detach",
                   "Remove photo or file MEDIA_ID from a release not yet sent."),
    "photos": Lazy("distribution.cli.releases.media:photos",
                   "How the release's photos travel in email: linked (default) or embedded."),
    "correct": Lazy("distribution.cli.releases.embargo:correct",
                    "Send a corrected FILE to those who received the release."),
    "embargo": Lazy("distribution.cli.releases.embargo:embargo",
                    "Move, lift or withdraw the embargo; tell who received it."),
}


@click.group(cls=LazyGroup, lazy=AFTER_SENDING)
def release() -> None:
    """Add, inspect, preview, re-embargo and correct press releases."""


@release.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--embargo", metavar="WHEN", help="Embargo until: '2025-04-16 09:00 Europe/Zurich'.")
@click.option("--language", metavar="CODE", help="Language of the release (en, fr, ar…).")
@click.option("--contact", "contacts", multiple=True, metavar='"Name <email> phone"',
              help="Media contact (repeatable); replaces the file's.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def add(app: App, file: Path, embargo: str | None, language: str | None,
        contacts: tuple[str, ...], as_json: bool) -> None:
    """Load a plain-text release FILE as a draft."""
    parsed = read_release_file(file)
    flag_contacts = catalogue.contacts_from_flags(contacts)
    language = catalogue.checked_language(language)
    photos = media_catalogue.front_matter_uploads(parsed.photos, file.parent, app.settings)
    with app.transaction() as session:
        now = database_now(session)
        when = catalogue.resolve_embargo(embargo or parsed.embargo_text, from_file=not embargo,
                                         settings=app.settings, now=now)
        item = catalogue.add_release(session, parsed, embargo=when, language=language,
                                     contacts=flag_contacts, source_name=file.name, now=now)
        media_catalogue.attach_all(session, app.settings, item, photos)
        info = catalogue.describe(item, app.settings)
    warnings = list(parsed.warnings)
    if flag_contacts:
        warnings = [w for w in warnings if "contact" not in w.lower()]
    if when and when.assumed_zone:
        warnings.append(f"the embargo time has no zone; read it in {when.zone}")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        emit_json({**info, "warnings": warnings})
        return
    click.echo(f"Release {info['id']} added: {info['headline']}")
    if info["embargo_display"]:
        click.echo(f"Embargoed until {info['embargo_display']}")


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
        info["media"] = [media_catalogue.describe(m, app.settings)
                         for m in media_catalogue.media_of(session, release_id)]
        info["inline_photos"] = media_catalogue.inline_photos(session, release_id)
    if as_json:
        emit_json(info)
        return
    for key, value in info.items():
        if key in _NOT_LISTED or value in (None, "", []):
            continue
        click.echo(f"{_LABELS.get(key, key.replace('_', ' '))}: {value}")
    for media in info["media"]:
        click.echo(f"{media['kind']} {media['id']}: {media['filename']} {media['public_url']}")
    click.echo("")
    click.echo(info["body"])


# The embargo is shown once, in the organisation's zone and in UTC (embargo_display).
_NOT_LISTED = {"body", "boilerplate", "embargo_until", "media", "inline_photos"}
_LABELS = {"embargo_display": "embargoed until", "embargo_zone": "embargo given in"}


@release.command("preview")
@click.argument("release_id", type=ROW_ID)
@click.option("--text", "part", flag_value="text", default=True, help="The plain-text part.")
@click.option("--html", "part", flag_value="html", help="The HTML part.")
@click.option("--eml", "part", flag_value="eml", help="The whole message (.eml).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@pass_app
@user_errors
def preview(app: App, release_id: int, part: str, out: Path | None) -> None:
    """Show the email a recipient would receive."""
    with app.transaction() as session:
        item = dispatch.get_release(session, release_id)
        now = database_now(session)
        media = message_media(session, app.settings, release_id,
                              distribution_id=NO_DISTRIBUTION,
                              signed=embargo.marked(item.embargo_until, now))
        session.expunge(item)
    data = preview_bytes(app.settings, item, part, now, media)
    if out:
        write_file(out, data)
        click.echo(f"Wrote {out}", err=True)
    else:
        sys.stdout.buffer.write(data)


def write_file(path: Path, data: bytes) -> None:
    """Written aside, then renamed: a failure leaves no half-written file."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
