"""Mailing lists: names, member counts, and bulk subscription that respects who left."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from distribution.audience import contacts, lists
from distribution.audience.lists import all_lists, create_list, get_list, list_summary, subscribe
from distribution.errors import InvalidInput, NotFound
from distribution.store.db import transaction
from distribution.store.models import Contact, Subscription, SubscriptionStatus


def add_contacts(session, *emails: str) -> list[int]:
    found = [Contact(email=email) for email in emails]
    session.add_all(found)
    session.flush()
    return [c.id for c in found]


def statuses(session, list_id: int) -> dict[str, SubscriptionStatus]:
    rows = session.execute(select(Contact.email, Subscription.status).join(Subscription)
                           .where(Subscription.list_id == list_id))
    return dict(rows.all())


def test_a_created_list_can_be_fetched_by_name(store):
    with transaction(store.Session) as s:
        create_list(s, "media-ch", trusted=True, open_signup=False, description="Swiss media")
    with transaction(store.Session) as s:
        found = get_list(s, "media-ch")
    assert (found.name, found.trusted, found.open_signup, found.description) == (
        "media-ch", True, False, "Swiss media")


@pytest.mark.parametrize("name", ["press", "media-CH_2025.v1", "x" * 100])
def test_list_names_of_letters_digits_dash_underscore_dot_are_accepted(sqlite_store, name):
    with transaction(sqlite_store.Session) as s:
        assert create_list(s, name).name == name


@pytest.mark.parametrize("name", ["", "swiss media", "x" * 101, "presse/fr", "médias"])
def test_other_list_names_are_refused(sqlite_store, name):
    with transaction(sqlite_store.Session) as s, pytest.raises(InvalidInput) as error:
        create_list(s, name)
    assert f"invalid list name '{name}'" in str(error.value)


def test_a_second_list_with_the_same_name_is_refused(store):
    with transaction(store.Session) as s:
        create_list(s, "press")
    with transaction(store.Session) as s, pytest.raises(InvalidInput) as error:
        create_list(s, "press", trusted=True)
    assert str(error.value) == "list 'press' already exists"


def test_an_unknown_list_is_not_found(store):
    with transaction(store.Session) as s:
        with pytest.raises(NotFound) as error:
            get_list(s, "nope")
        assert str(error.value) == "no list named 'nope'"
        with pytest.raises(NotFound):
            list_summary(s, "nope")


def test_members_are_the_subscribed_contacts_only(store):
    with transaction(store.Session) as s:
        media, public = create_list(s, "media", trusted=True), create_list(s, "public")
        create_list(s, "empty")
        a, b, c, d = add_contacts(s, "a@example.org", "b@example.org", "c@example.org",
                                  "d@example.org")
        subscribe(s, [a, b, c, d], media.id)
        subscribe(s, [a, b], public.id)
        s.add(Subscription(contact_id=c, list_id=public.id, status=SubscriptionStatus.PENDING))
        s.add(Subscription(contact_id=d, list_id=public.id,
                           status=SubscriptionStatus.UNSUBSCRIBED))
    with transaction(store.Session) as s:
        counts = {summary.name: summary.members for summary in all_lists(s)}
        shown = list_summary(s, "media")
    assert counts == {"empty": 0, "media": 4, "public": 2}
    assert list(counts) == ["empty", "media", "public"]  # by name
    assert (shown.name, shown.trusted, shown.open_signup, shown.members) == (
        "media", True, False, 4)
    assert shown.created_at.tzinfo is not None


def test_all_lists_counts_members_in_one_query(store):
    with transaction(store.Session) as s:
        for name in ("a", "b", "c"):
            subscribe(s, add_contacts(s, f"{name}1@example.org", f"{name}2@example.org"),
                      create_list(s, name).id)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql))
    with transaction(store.Session) as s:
        assert [summary.members for summary in all_lists(s)] == [2, 2, 2]
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]) == 1


def test_subscribing_again_adds_nothing_and_counts_only_new_subscriptions(store):
    with transaction(store.Session) as s:
        press = create_list(s, "press")
        first, second = add_contacts(s, "a@example.org", "b@example.org")
        assert subscribe(s, [first], press.id) == 1
        assert subscribe(s, [first, second, second], press.id) == 1
        assert subscribe(s, [], press.id) == 0
        assert statuses(s, press.id) == {"a@example.org": SubscriptionStatus.SUBSCRIBED,
                                         "b@example.org": SubscriptionStatus.SUBSCRIBED}


def test_subscribe_leaves_unsubscribed_and_pending_contacts_as_they_are(store):
    with transaction(store.Session) as s:
        press = create_list(s, "press")
        left, waiting, new = add_contacts(s, "left@example.org", "waiting@example.org",
                                          "new@example.org")
        s.add_all([
            Subscription(contact_id=left, list_id=press.id,
                         status=SubscriptionStatus.UNSUBSCRIBED),
            Subscription(contact_id=waiting, list_id=press.id,
                         status=SubscriptionStatus.PENDING),
        ])
        s.flush()
        assert subscribe(s, [left, waiting, new], press.id) == 1
        assert statuses(s, press.id) == {
            "left@example.org": SubscriptionStatus.UNSUBSCRIBED,
            "waiting@example.org": SubscriptionStatus.PENDING,
            "new@example.org": SubscriptionStatus.SUBSCRIBED,
        }


def test_subscribe_works_across_chunks(store, monkeypatch):
    monkeypatch.setattr(lists, "CHUNK", 3)
    with transaction(store.Session) as s:
        press = create_list(s, "press")
        ids = add_contacts(s, *(f"r{i}@example.org" for i in range(10)))
        assert subscribe(s, ids[:4], press.id) == 4
        assert subscribe(s, ids, press.id) == 6
        total = s.scalar(select(func.count()).select_from(Subscription))
    assert total == 10


def test_a_list_summary_counts_contacts_imported_into_it(store, tmp_path):
    path = tmp_path / "media.csv"
    path.write_text("email\na@example.org\nb@example.org\n", encoding="utf-8")
    with transaction(store.Session) as s:
        create_list(s, "media", trusted=True)
        contacts.import_contacts(s, path, list_name="media")
    with transaction(store.Session) as s:
        assert list_summary(s, "media").members == 2
