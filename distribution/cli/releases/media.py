"""`pressroom release attach|detach|photos`: a release's photos and files."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.orm import Session

from distribution.accountability import Actor, Role, release_changed
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.engine import dispatch
from distribution.media import catalogue
from distribution.media.blobs import blob_store


@click.command("attach")
@click.argument("release_id", type=ROW_ID)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--caption", metavar="TEXT", help="What the photo shows, or what the file is.")
@click.option("--credit", metavar="TEXT", help="Who took the photo: '© Jane Doe / IIIM'.")
@click.option("--alt", metavar="TEXT", help="Alternative text for readers who cannot see it.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def attach(app: App, release_id: int, file: Path, caption: str | None, credit: str | None,
           alt: str | None, as_json: bool) -> None:
    """Add a photo or document FILE to a release not yet sent.

    Photos: JPEG, PNG or WebP. Documents: PDF, Word, Excel, PowerPoint, OpenDocument.
    """
    upload = catalogue.read_upload(file, app.settings, caption=caption, credit=credit, alt=alt)
    with app.transaction() as session:
        actor = _editor(app, session, "release.attach", release_id)
        item = dispatch.get_release(session, release_id)
        media = catalogue.attach(session, blob_store(app.settings, session), item, upload,
                                 app.settings)
        info = catalogue.describe(media, app.settings)
        release_changed(session, actor, item, "release.attach",
                        f"attached {info['kind']} {info['id']}: {info['filename']}")
    if as_json:
        emit_json(info)
        return
    size = f", {info['width']}×{info['height']}" if info["width"] else ""
    click.echo(f"Attached {info['kind']} {info['id']} to release {release_id}: "
               f"{info['filename']} ({info['bytes']:,} bytes{size})")


@click.command("detach")
@click.argument("release_id", type=ROW_ID)
@click.argument("media_id", type=ROW_ID)
@pass_app
@user_errors
def detach(app: App, release_id: int, media_id: int) -> None:
    """Remove photo or file MEDIA_ID from a release not yet sent."""
    with app.transaction() as session:
        actor = _editor(app, session, "release.detach", release_id)
        item = dispatch.get_release(session, release_id)
        store = blob_store(app.settings, session)
        unused = catalogue.detach(session, item, media_id)
        release_changed(session, actor, item, "release.detach", f"removed media {media_id}")
        if app.settings.media_store == "database":
            for sha in unused:
                store.forget(sha)
    if app.settings.media_store != "database":
        # After the commit: a rolled-back detach must still find its bytes.
        with app.transaction() as session:
            store = blob_store(app.settings, session)
            for sha in unused:
                if not catalogue.is_named(session, sha):
                    store.forget(sha)
    click.echo(f"Removed {media_id} from release {release_id}")


@click.command("photos")
@click.argument("release_id", type=ROW_ID)
@click.option("--inline", "inline", flag_value=True,
              help="Embed resized photos in each email (larger messages).")
@click.option("--links", "inline", flag_value=False, default=True,
              help="Show photos from Pressroom's own copy (small messages; the default).")
@pass_app
@user_errors
def photos(app: App, release_id: int, inline: bool) -> None:
    """How the release's photos travel in email: linked (default) or embedded."""
    with app.transaction() as session:
        actor = _editor(app, session, "release.photos", release_id)
        item = dispatch.get_release(session, release_id)
        catalogue.set_inline_photos(session, item, inline)
        release_changed(session, actor, item, "release.photos",
                        "photos embedded in each email" if inline else "photos linked")
    click.echo(f"Release {release_id}: photos are {'embedded in' if inline else 'linked from'} "
               "each email")


def _editor(app: App, session: Session, action: str, release_id: int) -> Actor:
    """A change to the release: an editor's to make, and it voids an approval."""
    return app.acting(session, Role.EDITOR, action, f"release {release_id}",
                      release_id=release_id)
