"""`pressroom bounces`: apply bounces and complaints mailed back to the bounce address."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from distribution.cli.app import App, pass_app, user_errors
from distribution.deliverability.inbox import read_files, read_imap
from distribution.deliverability.mailed_back import read_report
from distribution.deliverability.record import apply_report
from distribution.mail.signing.verp import Verp


@click.command("bounces")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--imap", "imap_url", metavar="URL",
              help="Read the unseen messages of an IMAP folder, imaps://user:pass@host/INBOX "
                   "(the certificate verified); each one handled is marked seen.")
@pass_app
@user_errors
def bounces(app: App, files: tuple[Path, ...], imap_url: str | None) -> None:
    """Apply bounces and complaints mailed back to the bounce address.

    Reads one message from standard input (an MTA's pipe alias), the message FILES, or an
    IMAP folder. A hard bounce marks the delivery `bounced` and suppresses the address, a
    complaint marks it `complained` and suppresses it; soft bounces suppress after
    `soft_bounce_limit`. Anything else is reported and left alone, with exit code 0.

    From IMAP, every message read is marked seen once its result is saved, the ones left
    alone too (else each run would read them again); if the run stops on an error, the
    message it stopped at and those after it stay unseen.
    """
    verp = Verp(app.settings)

    def handle(name: str, raw: bytes) -> None:
        report = read_report(raw, verp)
        with app.transaction() as session:
            lines = apply_report(session, app.settings, report, datetime.now(UTC))
        for line in lines:
            click.echo(f"{name}: {line}")

    if imap_url:
        if files:
            raise click.UsageError("give message FILES or --imap, not both")
        folder, handled = read_imap(imap_url, handle)
        click.echo(f"IMAP folder {folder}: {handled} message(s) handled, each marked seen"
                   if handled else f"IMAP folder {folder}: no unseen messages")
        return
    unreadable = read_files(files, sys.stdin.buffer, handle)
    if unreadable:
        raise click.ClickException(f"cannot read {', '.join(unreadable)}")
