"""Watching and steering distributions: status, pause, resume, cancel, retry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from distribution.accountability import Actor, Role, check_approved, record
from distribution.accountability.approval import GATED_KINDS
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.sending.delivery import follow
from distribution.engine import lifecycle, status
from distribution.store.db import database_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from distribution.store.models import Distribution


@click.command("status")
@click.argument("distribution_id", type=ROW_ID, required=False)
@click.option("--watch", is_flag=True, help="Follow with a live progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def show_status(app: App, distribution_id: int | None, watch: bool, as_json: bool) -> None:
    """Progress of a distribution (the latest one when no id is given)."""
    thresholds = status.Thresholds.of(app.settings)
    lease = app.settings.claim_timeout_seconds
    with app.transaction() as session:
        distribution_id = distribution_id or status.latest_distribution_id(session)
        info = status.details(session, distribution_id, app.settings.timezone, thresholds,
                              lease)
    if watch:
        follow(app, distribution_id, quiet=False)
        with app.transaction() as session:
            info = status.details(session, distribution_id, app.settings.timezone,
                                  thresholds, lease)
    if as_json:
        emit_json(info)
        return
    _print_status(info, broker=bool(app.settings.broker_url))


def _print_status(info: dict[str, Any], *, broker: bool) -> None:
    kind = "" if info["kind"] == "release" else f" ({info['kind']})"
    click.echo(f"Distribution {info['id']}{kind} of release {info['release_id']}: "
               f"{info['headline']}")
    click.echo(f"  status   {info['status']}" + (f" ({info['paused_reason']})"
                                                 if info["paused_reason"] else ""))
    if info["waiting_reason"] and info["status"] == "sending":
        click.echo(f"  waiting  since {info['waiting_since']}: {info['waiting_reason']}")
    click.echo(f"  lists    {', '.join(info['lists'])}")
    click.echo(f"  send at  {info['send_at']}")
    if info["embargo_display"]:
        click.echo(f"  embargo  {info['embargo_display']}")
    click.echo(f"  total {info['total']}  sent {info['sent']}  failed {info['failed']}  "
               f"pending {info['pending']}  held {info['held']}  cancelled {info['cancelled']}")
    if info["in_flight"]:
        click.echo(f"  in flight {info['in_flight']} since {info['in_flight_since']}: held by "
                   "a batch, which renews its lease while it works; should it have "
                   f"stopped, they are taken back after {info['lease_lapses_at']}, and "
                   "nothing is lost")
    if info["reclaimable"]:
        runs = ("the workers and beat run; if none does, start `pressroom worker --beat`"
                if broker else "`pressroom worker` runs; if none does, start it")
        click.echo(f"  taken back {info['reclaimable']} at the next sweep: their batch "
                   f"stopped (its lease lapsed at {info['lapsed_at']}); those the SMTP "
                   "server accepted are marked sent from its journal, the others go out "
                   f"again. Nothing to do while {runs}")
    if info["deferred"]:
        click.echo(f"  deferred {info['deferred']} recipients, retried on their own schedule; "
                   f"the server said: {info['deferred_by']}")
    if info["bounced"] or info["complained"]:
        click.echo(f"  bounced {info['bounced']} ({info['bounce_rate']:.2%})  "
                   f"complained {info['complained']} ({info['complaint_rate']:.2%})")
    for warning in info["warnings"]:
        click.echo(f"  WARNING  {warning}")


@click.command("distributions")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
@user_errors
def list_distributions(app: App, as_json: bool) -> None:
    """The latest distributions, newest first."""
    with app.transaction() as session:
        rows = status.all_distributions(session, status.Thresholds.of(app.settings))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        why = f"  ({r['paused_reason']})" if r["paused_reason"] else ""
        click.echo(f"{r['id']:>5}  {r['status']:<9}  release {r['release_id']:<4} "
                   f"sent {r['sent']}/{r['total']}  {r['headline'][:60]}{why}")


@click.command()
@click.argument("distribution_id", type=ROW_ID)
@pass_app
@user_errors
def pause(app: App, distribution_id: int) -> None:
    """Pause a distribution; batches stop within one group of messages."""
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "send.pause", f"distribution {distribution_id}")
        dist = lifecycle.pause(session, distribution_id)
        record(session, actor, "send.paused", f"distribution {distribution_id}",
               "paused by an operator", release_id=dist.release_id)
    click.echo(f"Distribution {distribution_id} paused.")


@click.command()
@click.argument("distribution_id", type=ROW_ID)
@pass_app
@user_errors
def resume(app: App, distribution_id: int) -> None:
    """Resume a paused (or late) distribution."""
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "send.resume", f"distribution {distribution_id}")
        dist = _check_approved(app, session, actor, distribution_id)
        lifecycle.resume(session, distribution_id, database_now(session))
        record(session, actor, "send.resumed", f"distribution {distribution_id}",
               f"resumed ({dist.status.value})", release_id=dist.release_id)
    click.echo(f"Distribution {distribution_id} resumed.")
    kick(app, distribution_id)


@click.command()
@click.argument("distribution_id", type=ROW_ID)
@pass_app
@user_errors
def cancel(app: App, distribution_id: int) -> None:
    """Cancel a distribution; nothing more is sent."""
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "send.cancel", f"distribution {distribution_id}")
        count = lifecycle.cancel(session, distribution_id, database_now(session))
        record(session, actor, "send.cancelled", f"distribution {distribution_id}",
               f"cancelled; {count} deliveries not sent",
               release_id=lifecycle.get_distribution(session, distribution_id).release_id)
    click.echo(f"Distribution {distribution_id} cancelled; {count} deliveries will not be sent.")


@click.command()
@click.argument("distribution_id", type=ROW_ID)
@pass_app
@user_errors
def retry(app: App, distribution_id: int) -> None:
    """Send again to the recipients that failed."""
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "send.retry", f"distribution {distribution_id}")
        _check_approved(app, session, actor, distribution_id)
        count = lifecycle.retry_failed(session, distribution_id, database_now(session))
        record(session, actor, "send.retried", f"distribution {distribution_id}",
               f"{count} failed deliveries queued again",
               release_id=lifecycle.get_distribution(session, distribution_id).release_id)
    click.echo(f"{count} failed deliveries of distribution {distribution_id} queued again.")
    if count:
        kick(app, distribution_id)


def _check_approved(app: App, session: Session, actor: Actor,
                    distribution_id: int) -> Distribution:
    """What goes out again is the release as it reads now: approved, where that is required."""
    dist = lifecycle.get_distribution(session, distribution_id)
    if dist.kind in GATED_KINDS:
        check_approved(dist.release, actor, app.settings.require_approval)
    return dist


def kick(app: App, distribution_id: int) -> None:
    """Deliver now in the embedded mode; with a broker, let the workers know."""
    from distribution.cli.sending.delivery import start_delivery

    result = start_delivery(app, distribution_id, quiet=False)
    if result.get("exit_code"):
        raise SystemExit(result["exit_code"])
