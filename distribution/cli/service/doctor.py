"""`pressroom doctor`."""

from __future__ import annotations

import dataclasses

import click

from distribution.cli.app import App, emit_json, pass_app, user_errors
from distribution.deliverability.doctor import FAIL, Dns, run_checks


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def doctor(app: App, as_json: bool) -> None:
    """Check DNS (SPF, DKIM, DMARC), the relay and the links before sending.

    Exit code 1 when any check fails.
    """
    checks = run_checks(app.settings, Dns(app.settings.dns_server))
    if as_json:
        emit_json([dataclasses.asdict(c) for c in checks])
    else:
        for check in checks:
            click.echo(f"{check.verdict.upper():<5} {check.name:<15} {check.detail}")
    if any(c.verdict == FAIL for c in checks):
        click.get_current_context().exit(1)
