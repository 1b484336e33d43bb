"""`pressroom report`: each recipient of a distribution and what became of their copy."""

from __future__ import annotations

import csv
import sys

import click

from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.deliverability.outcomes import COLUMNS, recipient_report


@click.command("report")
@click.argument("distribution_id", type=ROW_ID)
@click.option("--failed", "failed_only", is_flag=True,
              help="Only those whose copy did not reach them (failed, bounced, complained, "
                   "cancelled).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print as CSV, one row per recipient.")
@pass_app
@user_errors
def report(app: App, distribution_id: int, failed_only: bool, as_json: bool,
           as_csv: bool) -> None:
    """Each recipient of a distribution: list, status, time, the server's reply, bounces."""
    with app.transaction() as session:
        rows = recipient_report(session, distribution_id, failed_only=failed_only)
    if as_json:
        emit_json(rows)
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
    else:
        for row in rows:
            reply = " ".join(str(x) for x in (row["smtp_code"], row["smtp_reply"]) if x)
            detail = row["bounce"] or row["error"] or reply
            click.echo(f"{row['email']:<40} {row['list'] or '-':<16} {row['status']:<10} "
                       f"{row['time'] or '-':<32} {detail or ''}")


def _csv_safe(value: object) -> object:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
