"""`pressroom contacts import|list`."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from distribution.accountability import Role, record
from distribution.audience.contacts import (
    ImportReport,
    Progress,
    all_contacts,
    all_suppressions,
    import_contacts,
)
from distribution.audience.forget import forget
from distribution.cli.app import App, emit_json, pass_app, user_errors
from distribution.cli.audience.lists import print_table
from distribution.transport import Smtputf8Probe

PROGRESS_BYTES = 1_000_000  # smaller files import in a blink: no bar


@click.group("contacts")
def contacts_group() -> None:
    """Journalists and subscribers: import them from CSV, list them."""


@contacts_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--list", "list_name", metavar="NAME",
              help="Subscribe every imported contact to this list (except who unsubscribed).")
@click.option("--check-deliverability", is_flag=True,
              help="Also check in the DNS that each domain receives mail.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
@user_errors
def import_file(app: App, file: Path, list_name: str | None, check_deliverability: bool,
                as_json: bool) -> None:
    """Import contacts from FILE, a CSV file with a header row.

    Columns: email (required), name, outlet, beat, language, country, timezone. Importing
    again updates contacts without duplicating them. Rejected rows are listed on stderr and
    make the exit code 1; the other rows are imported.
    """
    with app.transaction() as session, _progress(file) as progress:
        actor = app.acting(session, Role.EDITOR, "contacts.import", f"file {file.name}")
        report = import_contacts(session, file, list_name=list_name, on_progress=progress,
                                 check_deliverability=check_deliverability,
                                 smtputf8=Smtputf8Probe(app.settings.smtp_url))
        record(session, actor, "contacts.import", f"list {list_name}" if list_name else
               f"file {file.name}", _import_summary(report, file, list_name))
    _show_report(report, list_name, as_json)
    if report.rejected:
        click.get_current_context().exit(1)


@contacts_group.command("list")
@click.option("--list", "list_name", metavar="NAME", help="Only the members of this list.")
@click.option("--suppressed", is_flag=True,
              help="Show the addresses never mailed again, and why, instead.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def list_contacts(app: App, list_name: str | None, suppressed: bool, as_json: bool) -> None:
    """Show contacts: email, name, outlet and the lists they are subscribed to."""
    if suppressed:
        _list_suppressed(app, as_json)
        return
    with app.transaction() as session:
        found = all_contacts(session, list_name=list_name)
    if as_json:
        emit_json([dataclasses.asdict(contact) for contact in found])
    elif not found:
        click.echo("No contacts; import some with `pressroom contacts import FILE.csv`.")
    else:
        print_table(["email", "name", "outlet", "lists"],
                    [[c.email, c.name or "", c.outlet or "", ",".join(c.lists)] for c in found])


def _import_summary(report: ImportReport, file: Path, list_name: str | None) -> str:
    onto = f", subscribed {report.subscribed} to {list_name}" if list_name else ""
    return (f"{file.name}: {report.imported} new, {report.updated} updated, "
            f"{len(report.rejected)} rejected{onto}")


@contacts_group.command("forget")
@click.argument("address")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
@user_errors
def forget_contact(app: App, address: str, yes: bool) -> None:
    """Erase everything held about ADDRESS (GDPR); it is never mailed again.

    The contact, its subscriptions and the address in past deliveries go; only a hash of
    the address stays, so that no import or sign-up brings it back."""
    if not yes and not click.confirm(f"Erase every record of {address}? This cannot be "
                                     "undone.", err=True):
        raise click.ClickException("nothing erased")
    with app.transaction() as session:
        actor = app.acting(session, Role.ADMIN, "contacts.forget", "a contact")
        done = forget(session, address)
        # The address itself is what was erased: the entry names only what was done.
        record(session, actor, "contacts.forget", "a contact",
               f"erased {done.contacts} contact(s) and the address in "
               f"{done.deliveries} past deliveries; a hash kept as suppression")
    click.echo(f"Forgotten {address}: {done.contacts} contact(s) erased, the address removed "
               f"from {done.deliveries} past deliveries; only a hash remains, so it is never "
               "mailed again.")


def _list_suppressed(app: App, as_json: bool) -> None:
    with app.transaction() as session:
        found = all_suppressions(session)
    if as_json:
        emit_json([dataclasses.asdict(row) for row in found])
    elif not found:
        click.echo("No suppressed addresses.")
    else:
        print_table(["email", "since", "reason"],
                    [[r.email, r.since[:16].replace("T", " "), r.reason] for r in found])


@contextmanager
def _progress(path: Path) -> Iterator[Progress | None]:
    """A progress bar on stderr for a large file, only when stderr is a terminal."""
    size = path.stat().st_size if path.is_file() else 0
    if size < PROGRESS_BYTES or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, label=f"Reading {path.name}", file=sys.stderr) as bar:
        yield bar.update


def _show_report(report: ImportReport, list_name: str | None, as_json: bool) -> None:
    if as_json:
        emit_json(dataclasses.asdict(report) | {
            "list": list_name,
            "rejected": [{"line": line, "reason": reason} for line, reason in report.rejected],
        })
        return
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    summary = (f"Imported {report.imported} new, updated {report.updated}, "
               f"merged {report.duplicates_merged} duplicates")
    if list_name is not None:
        summary += f", subscribed {report.subscribed} to {list_name}"
    if report.forgotten:
        summary += f"; {report.forgotten} skipped: they asked to be forgotten"
    if list_name is not None and report.unsubscribed:
        summary += (f"; {report.unsubscribed} not subscribed because they had "
                    f"unsubscribed from it")
    if report.suppressed:
        summary += (f"; {report.suppressed} never mailed: they unsubscribed from everything "
                    "or their address bounced (contacts list --suppressed)")
    click.echo(summary)
    for line, reason in report.rejected:
        click.echo(f"line {line}: {reason}", err=True)
    if report.rejected:
        click.echo(f"{len(report.rejected)} rows rejected; the others were imported.", err=True)
