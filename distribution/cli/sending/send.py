"""`pressroom send`: record a distribution, then deliver it here or hand it to workers."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from distribution import times
from distribution.accountability import Actor, Role, check_approved, record
from distribution.accountability.operators import check_may_send
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.sending.delivery import deliver_now, hand_to_workers
from distribution.engine import dispatch
from distribution.errors import InvalidInput
from distribution.store.db import database_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from distribution.store.models import Distribution

PREVIEW_RECIPIENTS = 10


@click.command()
@click.argument("release_id", type=ROW_ID)
@click.option("--list", "lists", multiple=True, metavar="NAME",
              help="A list to send to (repeatable).")
@click.option("--at", "at", metavar="WHEN", help="Send later: '2025-04-16 09:00 Europe/Zurich'.")
@click.option("--test-to", metavar="ADDR", help="Send one copy to this address only.")
@click.option("--as", "as_address", metavar="ADDRESS",
              help="With --test-to: the copy this contact would get.")
@click.option("--dry-run", is_flag=True, help="Show who would receive it; send nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wait", is_flag=True, help="With workers: follow progress until done.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def send(app: App, release_id: int, lists: tuple[str, ...], at: str | None,
         test_to: str | None, as_address: str | None, dry_run: bool, yes: bool, wait: bool,
         as_json: bool) -> None:
    """Send release RELEASE_ID to the subscribed members of the lists."""
    if as_address and not test_to:
        raise InvalidInput("--as goes with --test-to: it chooses whose copy the test shows")
    if test_to:
        _send_test(app, release_id, test_to, as_address, as_json)
        return
    names = list(lists)
    with app.transaction() as session:
        now = database_now(session)
        when = (times.parse_when(at, app.settings.timezone or None, now=now)
                if at is not None else None)  # --at "" is a mistake, not "now"
        # The audience is counted only to be shown (half a second at 100,000 contacts);
        # `schedule` refuses an empty one by itself.
        plan = dispatch.plan(session, release_id, names, count=dry_run or not yes)
        _check_can_send(app, plan, now)
        if dry_run:
            _show_dry_run(session, plan, when, as_json)
            return
        _note_zone(when)
        actor = _sender(app, session, plan)
        if yes:  # checked and recorded in one transaction: nothing to check again
            dist, rows = _schedule(session, plan, now, when, actor)
    if not yes:
        _confirm(plan, when)
        dist, rows = _schedule_confirmed(app, release_id, names, when)
    result = {"distribution_id": dist.id, "recipients": rows, "send_at": dist.send_at.isoformat()}
    if app.settings.broker_url:
        result.update(hand_to_workers(app, dist.id, wait=wait, quiet=as_json))
    else:
        result.update(deliver_now(app, dist.id, quiet=as_json))
    if as_json:
        emit_json(result)
    if result.get("exit_code"):
        sys.exit(result["exit_code"])


def _check_can_send(app: App, plan: dispatch.Plan, now: datetime) -> None:
    from distribution.engine import preflight  # renders: loaded only when sending

    preflight.check_can_send(app.settings, plan.release, plan.lists, now)


def _sender(app: App, session: Session, plan: dispatch.Plan) -> Actor:
    """Who sends: an editor, allowed on every list, the release approved if that is required."""
    release_id = plan.release.id
    actor = app.acting(session, Role.EDITOR, "send", f"release {release_id}", release_id)
    check_may_send(session, actor, [m.id for m in plan.lists], release_id)
    check_approved(plan.release, actor, app.settings.require_approval)
    return actor


def _schedule(session: Session, plan: dispatch.Plan, now: datetime,
              when: times.WhenParsed | None, actor: Actor) -> tuple[Distribution, int]:
    dist, rows = dispatch.schedule(session, plan, now=now, send_at=when.utc if when else None,
                                   send_zone=when.zone if when else None)
    moment = f"at {dist.send_at.isoformat()}" if when else "now"
    record(session, actor, "send.scheduled", f"distribution {dist.id}",
           f"release {plan.release.id} to {rows} recipients on "
           f"{', '.join(m.name for m in plan.lists)}, {moment}", release_id=plan.release.id)
    return dist, rows


def _schedule_confirmed(app: App, release_id: int, names: list[str],
                        when: times.WhenParsed | None) -> tuple[Distribution, int]:
    """After the question, which may have stayed open for long: the release and lists are
    checked again, cheaply (the INSERT finds the audience as it is now)."""
    with app.transaction() as session:
        now = database_now(session)
        plan = dispatch.plan(session, release_id, names, count=False)
        return _schedule(session, plan, now, when, _sender(app, session, plan))


def _note_zone(when: times.WhenParsed | None) -> None:
    if when and when.assumed_zone:
        click.echo(f"Reading --at in {when.zone} (the organisation's time zone).", err=True)


def _show_dry_run(session, plan, when, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from distribution.audience.recipients import preview_audience

    first = preview_audience(session, [m.id for m in plan.lists], PREVIEW_RECIPIENTS)
    if as_json:
        emit_json({"dry_run": True, "release_id": plan.release.id, "recipients": plan.recipients,
                   "first_recipients": first,
                   "send_at": when.utc.isoformat() if when else None})
        return
    click.echo(f"Dry run: '{plan.release.headline}' would go to {plan.recipients} recipients "
               f"on {', '.join(m.name for m in plan.lists)}. Nothing was sent.")
    for address in first:
        click.echo(f"  {address}")
    if plan.recipients > len(first):
        click.echo(f"  … and {plan.recipients - len(first)} more")


def _confirm(plan: dispatch.Plan, when: times.WhenParsed | None) -> None:
    moment = f"at {times.format_in_zone(when.utc, when.zone)}" if when else "now"
    lists = ", ".join(m.name for m in plan.lists)
    if not click.confirm(f"Send '{plan.release.headline}' to {plan.recipients} recipients "
                         f"on {lists} {moment}?", err=True):
        raise click.ClickException("nothing sent")


def _send_test(app: App, release_id: int, address: str, as_address: str | None,
               as_json: bool) -> None:
    # Renders and talks SMTP: not needed by a real send.
    from distribution.audience.viewer import viewer_for
    from distribution.embargo import marked
    from distribution.engine import testsend
    from distribution.media.mailing import NO_DISTRIBUTION, message_media

    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "send.test", f"release {release_id}",
                           release_id)
        release = dispatch.get_release(session, release_id)
        dispatch.check_sendable(session, release)
        record(session, actor, "send.test", f"release {release_id}",
               f"a test copy to {address}", release_id=release_id)
        now = database_now(session)
        viewer = viewer_for(session, as_address) if as_address else None
        trusted = viewer is None or viewer.trusted
        media = message_media(session, app.settings, release_id,
                              distribution_id=NO_DISTRIBUTION,
                              signed=trusted and marked(release.embargo_until, now))
        session.expunge(release)
    outcome = testsend.send_test_copy(app.settings, release, address, now, viewer, media)
    if as_json:
        emit_json({"test_to": address, "result": outcome.kind.value, "code": outcome.code,
                   "text": outcome.text})
    if outcome.kind.value != "sent":
        raise InvalidInput(f"the test copy to {address} was not accepted: "
                           f"{outcome.code or ''} {outcome.text}".replace("  ", " "))
    if not as_json:
        click.echo(f"Test copy of release {release_id} sent to {address}.")
