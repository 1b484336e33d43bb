"""`pressroom release embargo` and `pressroom release correct`: changes after copies went out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from distribution import times
from distribution.accountability import Actor, Role, record, release_added, release_changed
from distribution.cli.app import ROW_ID, App, emit_json, pass_app, user_errors
from distribution.cli.sending.delivery import start_delivery
from distribution.embargo import corrections, notices
from distribution.engine import status
from distribution.engine.dispatch import get_release
from distribution.media import catalogue as media_catalogue
from distribution.media.catalogue import MediaUploads
from distribution.releases import catalogue
from distribution.releases.families import family_of
from distribution.releases.parse import read_release_file
from distribution.store.db import database_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from distribution.store.models import Distribution, Release


@click.command("embargo")
@click.argument("release_id", type=ROW_ID)
@click.option("--until", metavar="WHEN", help="Move it: '2025-04-17 10:00 Europe/Zurich'.")
@click.option("--lift", is_flag=True, help="Lift it now: everyone may publish.")
@click.option("--withdraw", is_flag=True, help="Withdraw the release: 'do not publish'.")
@click.option("--reason", metavar="TEXT", help="With --withdraw: the office's words, in the "
                                                 "notice.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def embargo(app: App, release_id: int, until: str | None, lift: bool, withdraw: bool,
            reason: str | None, yes: bool, as_json: bool) -> None:
    """Move, lift or withdraw the embargo; tell who received it.

    Everyone who received the release gets a notice, and nobody else. Held public copies
    follow the new time (--lift: sent now; --withdraw: cancelled).
    """
    if sum((until is not None, lift, withdraw)) != 1:
        raise click.UsageError("give exactly one of --until, --lift or --withdraw")
    notices.office_words(reason)  # checked before the question
    if reason is not None and not withdraw:
        raise click.UsageError("--reason goes with --withdraw")
    with app.transaction() as session:
        now = database_now(session)
        when = catalogue.resolve_embargo(until, from_file=False, settings=app.settings,
                                         now=now) if until is not None else None
        headline = get_release(session, release_id).headline
        impact = notices.impact(session, release_id)
    if when and when.assumed_zone:
        click.echo(f"Reading --until in {when.zone} (the organisation's time zone).", err=True)
    if not yes and not click.confirm(_question(release_id, headline, impact, when, withdraw),
                                     err=True):
        raise click.ClickException("nothing changed")
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "release.embargo", f"release {release_id}",
                           release_id)
        report = notices.change_embargo(session, release_id, until=when, lift=lift,
                                        withdraw=withdraw, now=database_now(session),
                                        reason=reason)
        _record_embargo(session, actor, report)
    to_deliver = [d for d in (report.notice_id, *report.released_from) if d is not None]
    result = {**_report_json(report), "delivery": _deliver(app, to_deliver, as_json)}
    if as_json:
        emit_json(result)
    else:
        click.echo(_summary(report))
    _exit_on_error(result)


@click.command("correct")
@click.argument("release_id", type=ROW_ID)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--note", metavar="TEXT", help="The office's words, after what changed.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@user_errors
def correct(app: App, release_id: int, file: Path, note: str | None, yes: bool,
            as_json: bool) -> None:
    """Send a corrected FILE to those who received the release.

    The corrected text becomes a new release under the same public address; exactly those
    who received the text get it as a CORRECTION, saying what changed, each in the language
    they were sent. RELEASE_ID may be a language version: only its readers are told. Copies
    not yet sent carry the corrected text.
    """
    notices.office_words(note)  # checked before anything is read or asked
    parsed = read_release_file(file)
    photos = MediaUploads(app.settings, media_catalogue.front_matter_uploads(
        parsed.photos, file.parent, app.settings))
    for warning in parsed.warnings:
        click.echo(f"warning: {warning}", err=True)
    if parsed.embargo_text:
        click.echo("warning: the file's embargo line is ignored; a correction keeps the "
                   "release's embargo (change it with `pressroom release embargo`)", err=True)
    with app.transaction() as session:
        plan = corrections.plan_correction(session, release_id, parsed)
        changed, recipients = plan.changed, corrections.recipients(session, plan)
    told = (f"send the correction to {recipients} recipients who received it" if recipients
            else "no one has received it yet, so no correction is sent")
    if not yes and not click.confirm(f"Correct release {release_id} ({changed}); {told}. "
                                     "Go ahead?", err=True):
        raise click.ClickException("nothing sent")
    with app.transaction() as session:
        actor = app.acting(session, Role.EDITOR, "release.correct", f"release {release_id}",
                           release_id)
        new, dist = corrections.correct_release(session, release_id, parsed,
                                                now=database_now(session),
                                                source_name=file.name, note=note,
                                                photos=photos)
        _record_correction(session, actor, release_id, new, dist)
        waits = app.settings.require_approval  # the corrected text is a new, unapproved release
        carried = corrections.carried_over(session, new.id)
        result: dict[str, Any] = {
            "release_id": new.id, "corrects_id": release_id, "family_id": plan.family.root.id,
            "language": new.language,
            "distribution_id": dist.id if dist else None,
            "note": dist.note if dist else None,
            "recipients": status.counts(session, dist.id)["total"] if dist else 0,
            "carried_over": carried}
    to_deliver = [] if waits else ([dist.id] if dist else []) + carried
    result["delivery"] = _deliver(app, to_deliver, as_json)
    result["awaiting_approval"] = waits
    if as_json:
        emit_json(result)
    elif waits:
        click.echo(f"Release {new.id} corrects release {release_id}; it is sent once an "
                   f"approver runs `pressroom release approve {new.id}`.")
    else:
        click.echo(f"Release {new.id} corrects release {release_id}. "
                   + (f"Correction ({dist.note}) sent to {result['recipients']} recipients."
                      if dist else "No one had received it yet: no correction to send."))
    _exit_on_error(result)


def _record_embargo(session: Session, actor: Actor, report: notices.ChangeReport) -> None:
    """A move changes what was approved; a lift or a withdrawal is urgent and voids nothing."""
    summary = f"embargo {report.change}: {_summary(report)}"
    if report.change == "moved":  # the version that goes out is the newest
        newest = family_of(session, report.release_id).main.head
        release_changed(session, actor, newest, "release.embargo", summary)
    else:
        record(session, actor, "release.embargo", f"release {report.release_id}", summary,
               release_id=report.release_id)


def _record_correction(session: Session, actor: Actor, release_id: int, new: Release,
                       dist: Distribution | None) -> None:
    """The original changed (its approval is void) and the corrected text is a new release,
    to be approved in its turn where approval is required."""
    told = f"{dist.note} Correction: distribution {dist.id}." if dist else "No one had it yet."
    release_changed(session, actor, get_release(session, release_id), "release.correct",
                    f"corrected by release {new.id} from {new.source_name}. {told}")
    release_added(session, actor, new, f"correction of release {release_id}: "
                                       f"{new.headline[:120]}")


def _question(release_id: int, headline: str, impact: notices.Impact,
              when: times.WhenParsed | None, withdraw: bool) -> str:
    told = f"{impact.recipients} recipients who received it"
    if when:
        moment = times.format_in_zone(when.utc, when.zone)
        return (f"Move the embargo of release {release_id} '{headline}' to {moment}? {told} "
                f"will be notified; {impact.held} held deliveries will wait for the new time.")
    if withdraw:
        unsent = impact.held + impact.pending
        return (f"Withdraw release {release_id} '{headline}'? {told} will be told not to "
                f"publish; {unsent} deliveries not yet sent will be cancelled.")
    return (f"Lift the embargo of release {release_id} '{headline}' now? {told} will be told "
            f"they may publish; {impact.held} held deliveries will be sent now.")


def _deliver(app: App, distribution_ids: list[int], quiet: bool) -> list[dict[str, Any]]:
    """In-process without a broker (as `send` does); else the workers take them."""
    results = []
    for distribution_id in distribution_ids:
        outcome = start_delivery(app, distribution_id, quiet=quiet)
        results.append({"distribution_id": distribution_id, **outcome})
    return results


def _report_json(report: notices.ChangeReport) -> dict[str, Any]:
    return {
        "release_id": report.release_id, "change": report.change,
        "embargo_until": report.embargo_until.isoformat() if report.embargo_until else None,
        "embargo_zone": report.embargo_zone, "note": report.note,
        "notice_id": report.notice_id, "notified": report.notified, "held": report.held,
        "cancelled_deliveries": report.cancelled_deliveries,
        "cancelled_distributions": list(report.cancelled_distributions),
    }


def _summary(report: notices.ChangeReport) -> str:
    told = (f"Notice {report.notice_id} to {report.notified} recipients: {report.note}"
            if report.notice_id else "No one had received the release: no notice to send.")
    if report.change == "withdrawn":
        return (f"Release {report.release_id} withdrawn; {report.cancelled_deliveries} "
                f"deliveries not yet sent were cancelled. {told}")
    if report.change == "lifted":
        return f"Embargo of release {report.release_id} lifted. {told}"
    assert report.embargo_until and report.embargo_zone
    moment = times.format_in_zone(report.embargo_until, report.embargo_zone)
    return (f"Embargo of release {report.release_id} moved to {moment}; "
            f"{report.held} held deliveries wait for it. {told}")


def _exit_on_error(result: dict[str, Any]) -> None:
    if any(d.get("exit_code") for d in result["delivery"]):
        sys.exit(1)
