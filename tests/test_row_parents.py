"""Rows without foreign keys (migration 0003) still name parents that exist.

Deliveries keep no key to their distribution, contact or list, nor subscriptions to their
list: the code that writes them guarantees it. These tests run every writer, including the
one place that deletes a parent (a correction's carry-over that found nothing to move), and
look for rows whose parent is missing, on both backends.
"""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import exists, func, select, update

from distribution.audience.contacts import import_contacts
from distribution.embargo.corrections import carried_over, correct_release
from distribution.embargo.notices import change_embargo
from distribution.engine import claims, dispatch
from distribution.engine.runner import deliver_due
from distribution.releases.parse import ParsedRelease
from distribution.store.models import (
    Contact,
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionKind,
    DistributionStatus,
    MailingList,
    Subscription,
)
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.settings import make_settings


def _orphans(session) -> dict[str, int]:
    """Rows naming a parent that does not exist, by kind (all zero when sound)."""
    def missing(child, column, parent):  # type: ignore[no-untyped-def]
        return session.scalar(select(func.count()).select_from(child).where(
            column.is_not(None), ~exists().where(parent.id == column))) or 0

    return {
        "delivery distribution": missing(Delivery, Delivery.distribution_id, Distribution),
        "delivery contact": missing(Delivery, Delivery.contact_id, Contact),
        "delivery list": missing(Delivery, Delivery.list_id, MailingList),
        "subscription list": missing(Subscription, Subscription.list_id, MailingList),
    }


NONE = {"delivery distribution": 0, "delivery contact": 0, "delivery list": 0,
        "subscription list": 0}


def _corrected(headline: str) -> ParsedRelease:
    return ParsedRelease(headline=headline, dateline_text="Damascus, April 16, 2025",
                         body="The meetings focused on cooperation.\n\n- Independent\n"
                              "- Impartial",
                         boilerplate_heading="About the IIIM",
                         boilerplate="The IIIM is a United Nations organisation.")


def test_sends_notices_and_corrections_leave_no_row_without_its_parents(
        store, smtp_server, tmp_path):
    settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url)
    csv = b"email,name\nana@example.com,Ana\np1@example.org,\n"
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "media", ["t0@example.org", "t1@example.org"], trusted=True)
        make_list(session, "public", ["p0@example.org"])
        import_contacts(session, io.BytesIO(csv), list_name="public")
        plan = dispatch.plan(session, release.id, ["media", "public"])
        dispatch.schedule(session, plan, now=now_utc())
        release_id = release.id
    deliver_due(store.Session, settings)              # trusted copies out, public held
    with store.Session() as session, session.begin():
        change_embargo(session, release_id, lift=True, now=now_utc())   # notices: copied rows
    deliver_due(store.Session, settings)
    with store.Session() as session, session.begin():
        correct_release(session, release_id, _corrected("Visit to Damascus and Beirut"),
                        now=now_utc())
    deliver_due(store.Session, settings)
    with store.Session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 12
        assert _orphans(session) == NONE


def test_a_correction_with_nothing_to_carry_over_deletes_an_empty_distribution(store):
    """Every copy is on its way: the carry-over's new distribution is deleted, rowless."""
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["a@example.org", "b@example.org"])
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
        dist.status = DistributionStatus.SENDING
        session.flush()
        claimed = claims.claim(session, dist.id, 10, "w1", now_utc())
        assert len(claimed) == 2
        release_id, distribution_id = release.id, dist.id
    with store.Session() as session, session.begin():
        corrected, correction = correct_release(session, release_id, _corrected("New"),
                                                now=now_utc())
        assert correction is not None and correction.kind == DistributionKind.CORRECTION
        assert carried_over(session, corrected.id) == []
        corrected_id = corrected.id
    with store.Session() as session:
        kinds = session.execute(select(Distribution.release_id, Distribution.kind)
                                .order_by(Distribution.id)).all()
        assert kinds == [(release_id, DistributionKind.RELEASE),
                         (corrected_id, DistributionKind.CORRECTION)]
        assert set(session.scalars(select(Delivery.status).where(
            Delivery.distribution_id == distribution_id))) == {DeliveryStatus.SENDING}
        assert _orphans(session) == NONE


def test_the_orphan_check_finds_a_row_whose_parent_is_gone(store):
    """The check above can fail: with the keys gone, nothing else would notice."""
    with store.Session() as session, session.begin():
        release = make_release(session)
        media = make_list(session, "media", ["a@example.org"])
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
        session.execute(update(Delivery).values(distribution_id=dist.id + 1, list_id=0))
        session.execute(update(Subscription).values(list_id=media.id + 1))
        assert _orphans(session) == {"delivery distribution": 1, "delivery contact": 0,
                                     "delivery list": 1, "subscription list": 1}
