"""`pressroom send`: record a distribution, then deliver it here or hand it to workers."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from distribution import times
from distribution.accountability import Actor, Role, check_approved, record
from distribution.accountability.operators import check_may_send
from distribution.audience.recipients import split_audience
from distribution.audience.segments import Conditions, describe, get_segment, parse_where
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.sending.checking import Checking
from distribution.cli.sending.delivery import start_delivery
from distribution.engine import dispatch, status
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
@click.option("--where", "wheres", multiple=True, metavar="FIELD=VALUE[,VALUE]",
              help="Only members whose field (beat, country, language, outlet, timezone) "
                   "is one of the values (repeatable).")
@click.option("--segment", metavar="NAME", help="Send to a saved segment (its lists and "
                                                "conditions).")
@click.option("--at", "at", metavar="WHEN", help="Send later: '2025-04-16 09:00 Europe/Zurich'.")
@click.option("--test-to", metavar="ADDR", help="Send one copy to this address only.")
@click.option("--as", "as_address", metavar="ADDRESS",
              help="With --test-to: the copy this contact would get.")
@click.option("--dry-run", is_flag=True, help="Show who would receive it; send nothing.")
@click.option("--again", is_flag=True,
              help="Also send to who already received it (or has it on its way).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wait", is_flag=True, help="With workers: follow progress until done.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def send(app: App, release_id: int, lists: tuple[str, ...], wheres: tuple[str, ...],
         segment: str | None, at: str | None, test_to: str | None, as_address: str | None,
         dry_run: bool, again: bool, yes: bool, wait: bool, as_json: bool) -> None:
    """Send release RELEASE_ID to the subscribed members of the lists.

    Who already received it, or has it on its way or held for the lift, is skipped unless
    --again; re-running an interrupted send finishes the distribution it started."""
    if as_address and not test_to:
        raise InvalidInput("--as goes with --test-to: it chooses whose copy the test shows")
    if test_to:
        _send_test(app, release_id, test_to, as_address, as_json)
        return
    names, where = list(lists), parse_where(wheres)
    if segment and (names or where):
        raise InvalidInput("--segment brings its own lists and conditions; "
                           "give it without --list or --where")
    if segment:
        with app.transaction() as session:
            saved = get_segment(session, segment)
            names, where = list(saved.list_names), dict(saved.conditions)
    try:
        dist_id, rows, send_at = _record(app, release_id, names, where, at, dry_run, again,
                                         yes, as_json)
    except dispatch.EveryoneHasIt as exc:
        if exc.unfinished is None:
            raise
        dist_id, rows, send_at = _resume(app, exc.unfinished, as_json)
    if dist_id is None:
        return
    result: dict[str, Any] = {"distribution_id": dist_id, "recipients": rows,
                              "send_at": send_at}
    result.update(start_delivery(app, dist_id, wait=wait, quiet=as_json))
    if as_json:
        emit_json(result)
    if result.get("exit_code"):
        sys.exit(result["exit_code"])


def _record(app: App, release_id: int, names: list[str], where: Conditions, at: str | None,
            dry_run: bool, again: bool, yes: bool,
            as_json: bool) -> tuple[int | None, int, str | None]:
    """The distribution recorded (after the question), or None after a dry run."""
    with app.transaction() as session:
        now = database_now(session)
        when = (times.parse_when(at, app.settings.timezone or None, now=now)
                if at is not None else None)  # --at "" is a mistake, not "now"
        # The audience is counted only to be shown (half a second at 100,000 contacts);
        # `schedule` refuses an empty one by itself.
        plan = dispatch.plan(session, release_id, names, count=dry_run or not yes,
                             where=where)
        if yes and not dry_run:  # checked and recorded in one transaction
            _note_zone(when)
            actor = _sender(app, session, plan)
            checking = Checking(app.settings, plan.release, plan.lists, now)
            try:
                dist, rows = _schedule(session, plan, now, when, actor, again)
            except dispatch.EveryoneHasIt:
                checking.result()  # continuing a distribution: checked alike
                raise
            # After the INSERT, inside its transaction: a refusal here records nothing.
            checking.result()
            return dist.id, rows, dist.send_at.isoformat()
        Checking(app.settings, plan.release, plan.lists, now).result()
        split = split_audience(session, [m.id for m in plan.lists], release_id, plan.where)
        if dry_run:
            _show_dry_run(session, plan, split, when, as_json)
            return None, 0, None
        _note_zone(when)
        _sender(app, session, plan)
    _confirm(plan, split, when, again)
    dist, rows = _schedule_confirmed(app, release_id, names, where, when, again)
    return dist.id, rows, dist.send_at.isoformat()


def _resume(app: App, distribution_id: int, as_json: bool) -> tuple[int, int, str]:
    """Everyone has it already, and a distribution of it is unfinished: finish that one."""
    with app.transaction() as session:
        info = status.describe(session, distribution_id)
    if not as_json:
        click.echo(f"Everyone on these lists already has this release; distribution "
                   f"{distribution_id} of it is {info['status']} with "
                   f"{info['pending'] + info['in_flight']} not yet sent: continuing it.",
                   err=True)
    return distribution_id, info["total"], str(info["send_at"])


def _sender(app: App, session: Session, plan: dispatch.Plan) -> Actor:
    """Who sends: an editor, allowed on every list, the release approved if that is required."""
    release_id = plan.release.id
    actor = app.acting(session, Role.EDITOR, "send", f"release {release_id}", release_id)
    check_may_send(session, actor, [m.id for m in plan.lists], release_id)
    check_approved(plan.release, actor, app.settings.require_approval)
    return actor


def _schedule(session: Session, plan: dispatch.Plan, now: datetime,
              when: times.WhenParsed | None, actor: Actor,
              again: bool) -> tuple[Distribution, int]:
    dist, rows = dispatch.schedule(session, plan, now=now, send_at=when.utc if when else None,
                                   send_zone=when.zone if when else None, again=again)
    moment = f"at {dist.send_at.isoformat()}" if when else "now"
    record(session, actor, "send.scheduled", f"distribution {dist.id}",
           f"release {plan.release.id} to {rows} recipients on "
           f"{', '.join(m.name for m in plan.lists)}, {moment}"
           + (" (again)" if again else ""), release_id=plan.release.id)
    return dist, rows


def _schedule_confirmed(app: App, release_id: int, names: list[str], where: Conditions,
                        when: times.WhenParsed | None, again: bool) -> tuple[Distribution, int]:
    """After the question, which may have stayed open for long: the release and lists are
    checked again, cheaply (the INSERT finds the audience as it is now)."""
    with app.transaction() as session:
        now = database_now(session)
        plan = dispatch.plan(session, release_id, names, count=False, where=where)
        return _schedule(session, plan, now, when, _sender(app, session, plan), again)


def _note_zone(when: times.WhenParsed | None) -> None:
    if when and when.assumed_zone:
        click.echo(f"Reading --at in {when.zone} (the organisation's time zone).", err=True)


def _show_dry_run(session: Session, plan: dispatch.Plan, split: dict[str, int] | None,
                  when: times.WhenParsed | None, as_json: bool) -> None:
    from distribution.audience.recipients import preview_audience

    assert split is not None  # a dry run always asks for the split
    first = preview_audience(session, [m.id for m in plan.lists], PREVIEW_RECIPIENTS,
                             plan.where)
    by_version = dispatch.count_by_version(session, plan)
    if as_json:
        emit_json({"dry_run": True, "release_id": plan.release.id, "recipients": plan.recipients,
                   "where": plan.where or {}, "versions": by_version, "split": split,
                   "first_recipients": first,
                   "send_at": when.utc.isoformat() if when else None})
        return
    click.echo(f"Dry run: '{plan.release.headline}' would go to {split['new']} recipients "
               f"on {', '.join(m.name for m in plan.lists)}{_narrowed(plan)}"
               f"{_skipped(split)}. Nothing was sent.")
    if len(by_version) > 1 or plan.release.language not in by_version:
        click.echo("By language version: " + ", ".join(
            f"{code} {n}" for code, n in sorted(by_version.items(), key=lambda kv: -kv[1])))
    for address in first:
        click.echo(f"  {address}")
    more = (plan.recipients or 0) - len(first)  # counted: a dry run asks for the count
    if more > 0:
        click.echo(f"  … and {more} more")


def _narrowed(plan: dispatch.Plan) -> str:
    return f" whose {describe(plan.where)}" if plan.where else ""


def _skipped(split: dict[str, int]) -> str:
    parts = [f"{split['received']} already received it" if split["received"] else "",
             f"{split['on_its_way']} have it on its way" if split["on_its_way"] else "",
             f"{split['held']} are held until the lift" if split["held"] else ""]
    said = "; ".join(p for p in parts if p)
    return f" (skipping: {said})" if said else ""


def _confirm(plan: dispatch.Plan, split: dict[str, int], when: times.WhenParsed | None,
             again: bool) -> None:
    moment = f"at {times.format_in_zone(when.utc, when.zone)}" if when else "now"
    lists = ", ".join(m.name for m in plan.lists) + _narrowed(plan)
    if again:
        having = (plan.recipients or 0) - split["new"]
        question = (f"Send '{plan.release.headline}' to all {plan.recipients} recipients on "
                    f"{lists} {moment}, AGAIN to {having} who already have it?")
    else:
        question = (f"Send '{plan.release.headline}' to {split['new']} recipients on "
                    f"{lists} {moment}{_skipped(split)}?")
    if not click.confirm(question, err=True):
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
        # Before the audit entry: a forgotten person's address is written nowhere again.
        address = testsend.checked_test_address(session, app.settings, address)
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
