"""`pressroom unsubscribe-mail`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from distribution.accountability import process_origin, record, subscriber_actor
from distribution.audience.mailed_unsubscribe import (
    MAX_MAIL_BYTES,
    apply_request,
    read_request,
)
from distribution.cli.app import App, pass_app, user_errors


@click.command("unsubscribe-mail")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@pass_app
@user_errors
def unsubscribe_mail(app: App, files: tuple[Path, ...]) -> None:
    """Apply unsubscribe requests mailed to the List-Unsubscribe address.

    Reads one email from standard input (an MTA's pipe alias), or the email FILES (a
    maildir's). A message without a valid token is reported and skipped, with exit code 0:
    an MTA would otherwise bounce it to a sender that may be forged. A file that cannot be
    read makes the exit code 1.
    """
    messages, unreadable = _read(files)
    for name, raw in messages:
        if len(raw) > MAX_MAIL_BYTES:
            click.echo(f"{name}: larger than an unsubscribe request may be "
                       f"({MAX_MAIL_BYTES:,} bytes); skipped")
            continue
        request = read_request(app.settings, raw)
        if request is None:
            click.echo(f"{name}: no valid unsubscribe token; skipped")
            continue
        with app.transaction() as session:
            left = apply_request(session, request, datetime.now(UTC))
            record(session, subscriber_actor(request.contact_id,
                                             f"mailed request, {process_origin()}"),
                   "subscription.leave", left, "unsubscribed by a mailed request"
                   + ("; address suppressed" if left == "every list" else ""))
        click.echo(f"{name}: contact {request.contact_id} unsubscribed from "
                   f"{left.removeprefix('list ')}")
    if unreadable:
        raise click.ClickException(f"cannot read {', '.join(unreadable)}")


def _read(files: tuple[Path, ...]) -> tuple[list[tuple[str, bytes]], list[str]]:
    if not files:
        return [("stdin", sys.stdin.buffer.read(MAX_MAIL_BYTES + 1))], []
    messages, unreadable = [], []
    for path in files:
        try:
            with path.open("rb") as handle:
                messages.append((str(path), handle.read(MAX_MAIL_BYTES + 1)))
        except OSError as exc:
            unreadable.append(f"{path} ({exc.strerror or exc})")
    return messages, unreadable
