"""After a send is recorded: deliver it in this process, or hand it to the workers."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from distribution.cli.app import App
from distribution.engine import status
from distribution.errors import Stopped
from distribution.store.db import first_line


def start_delivery(app: App, distribution_id: int, *, quiet: bool,
                   wait: bool = False) -> dict[str, Any]:
    """The one place that decides: the workers take it (a broker is configured), or this
    process delivers what is due now (the embedded default)."""
    if app.settings.broker_url:
        return hand_to_workers(app, distribution_id, wait=wait, quiet=quiet)
    return deliver_now(app, distribution_id, quiet=quiet)


def deliver_now(app: App, distribution_id: int, *, quiet: bool) -> dict[str, Any]:
    """Embedded default: deliver what is due now, with a progress bar."""
    from distribution.engine.runner import deliver_due  # the engine: not needed with a broker

    with app.transaction() as session:
        due = status.counts(session, distribution_id)["pending"]
    try:
        with click.progressbar(length=due, label="Sending", file=sys.stderr,
                               hidden=quiet or due == 0 or not sys.stderr.isatty()) as bar:
            report = deliver_due(app.Session, app.settings, only=distribution_id,
                                 on_sent=bar.update)
    except KeyboardInterrupt:
        _interrupted(app, distribution_id)
    except (DBAPIError, OSError) as exc:
        raise _stopped(app, exc) from None
    with app.transaction() as session:
        summary = status.describe(session, distribution_id)
    result: dict[str, Any] = {"status": summary["status"], "sent": summary["sent"],
                              "failed": summary["failed"], "pending": summary["pending"],
                              "held": summary["held"], "where": _where(app)}
    if report.server_down:
        result["error"] = report.stopped
        result["exit_code"] = 1
    elif summary["paused_reason"]:
        result["error"] = f"paused: {summary['paused_reason']}"
        result["exit_code"] = 1
    elif summary["in_flight"]:
        # Claimed by another process: a live worker, or one that died (its lease lapses).
        result["in_flight"] = summary["in_flight"]
        result["exit_code"] = 1
    if not quiet:
        _say(distribution_id, summary, result, report.stopped if report.server_down else None)
    return result


def _stopped(app: App, exc: DBAPIError | OSError) -> Stopped:
    """The database refused the results (a full disk) or stayed away, or the journal could
    not be written: what the server accepted is journaled, the rest still claimed."""
    what = ("the database could not record the results" if isinstance(exc, DBAPIError)
            else "the batch journal could not be written")
    lease = app.settings.claim_timeout_seconds
    return Stopped(f"sending stopped: {what} ({first_line(exc)}). Nothing is lost: what the "
                   "SMTP server accepted is in the batch journal. Once this is mended, run "
                   f"`pressroom worker`: after {lease} s it takes back the recipients this "
                   "send held and sends only what is left.")


def _interrupted(app: App, distribution_id: int) -> None:
    """Ctrl-C: the batch gave its rows back (those the server accepted as sent); say what
    is left and exactly how to finish it."""
    with app.transaction() as session:
        summary = status.describe(session, distribution_id)
    left = summary["pending"] + summary["in_flight"]
    click.echo(f"\nInterrupted. Distribution {distribution_id}: {summary['sent']} sent, "
               f"{left} not yet sent. To finish it, run `pressroom worker`: it sends only "
               "what is left.", err=True)
    raise SystemExit(130)


def _where(app: App) -> str:
    settings = app.settings
    if settings.smtp_url:
        return str(settings.masked()["smtp_url"])
    return settings.outbox


def _say(distribution_id: int, summary: dict[str, Any], result: dict[str, Any],
         server_down: str | None) -> None:
    click.echo(f"Distribution {distribution_id}: {summary['sent']} sent, "
               f"{summary['failed']} failed, {summary['pending']} pending, "
               f"{summary['held']} held until the embargo lifts.")
    if summary["sent"]:
        click.echo(f"Messages went to {result['where']}")
    if server_down:
        click.echo(f"Error: {server_down}. Nothing is lost: the {summary['pending']} pending "
                   "deliveries stay queued; run `pressroom worker` once the server is back "
                   "(do not send again: that would create a second distribution).", err=True)
    elif summary["pending"] or summary["held"] or summary["status"] == "scheduled":
        click.echo("The rest goes out when it falls due only if a worker is running then: "
                   "`pressroom worker` (the README shows how to run it as a service).")
    if summary["paused_reason"]:
        click.echo(f"Paused: {summary['paused_reason']}", err=True)
    if summary["in_flight"] and not server_down:
        click.echo(f"{summary['in_flight']} recipients are claimed by another process (since "
                   f"{summary['in_flight_since']}), perhaps one that was stopped: they are not "
                   "sent yet. Run `pressroom worker`: it takes them back once their claim "
                   "lapses and sends only what is left.", err=True)


def hand_to_workers(app: App, distribution_id: int, *, wait: bool,
                    quiet: bool) -> dict[str, Any]:
    """With a broker: enqueue after the commit and return (or follow with --wait)."""
    from workers.enqueue import enqueue_start

    error = enqueue_start(distribution_id)
    result: dict[str, Any] = {"queued": error is None}
    if error:
        result["broker_error"] = error
        if not quiet:
            click.echo(f"Distribution {distribution_id} is recorded, but the broker is "
                       f"unreachable ({error}); the sweep will dispatch it once it is back.",
                       err=True)
        return result
    if not quiet:
        click.echo(f"Distribution {distribution_id} queued for the workers.")
    if wait:
        follow(app, distribution_id, quiet=quiet)
    return result


def follow(app: App, distribution_id: int, *, quiet: bool, interval: float = 0.5) -> None:
    """A live progress bar (sent, failed, pending, rate, time left) until it stops moving."""
    with app.transaction() as session:
        total = status.counts(session, distribution_id)["total"]
    started, first = time.monotonic(), None
    with click.progressbar(length=total, label="Delivering", file=sys.stderr,
                           hidden=quiet or not sys.stderr.isatty(), show_eta=True) as bar:
        seen = 0
        while True:
            with app.transaction() as session:
                info = status.describe(session, distribution_id)
            finished = info["sent"] + info["failed"] + info["cancelled"]
            first = finished if first is None else first
            rate = (finished - first) / max(time.monotonic() - started, 1e-6)
            bar.label = (f"sent {info['sent']}  failed {info['failed']}  "
                         f"pending {info['pending']}  held {info['held']}  {rate:,.0f}/s")
            bar.update(finished - seen)
            seen = finished
            if info["status"] in ("done", "cancelled", "paused"):
                return
            time.sleep(interval)
