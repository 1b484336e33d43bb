"""Signed link tokens: round trips, refusals, purposes, key rotation, expiry."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer

from distribution.mail import tokens
from distribution.mail.tokens import BadToken, ExpiredToken
from tests.fixtures.settings import make_settings


@pytest.fixture
def keyed(tmp_path):
    """Settings factory: same store and base URL, chosen keys."""
    def make(key: str = "key-2025", old: str = ""):
        return make_settings(tmp_path, "sqlite://", secret_key=key, old_secret_keys=old)
    return make


def _payload(token: str) -> object:
    data = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def _tamper(token: str) -> str:
    # Change one character of the payload, keeping the signature.
    head, _, sig = token.partition(".")
    swapped = head[:-1] + ("A" if head[-1] != "A" else "B")
    return f"{swapped}.{sig}"


def test_unsubscribe_token_round_trips_the_ids(settings) -> None:
    token = tokens.unsubscribe_token(settings, 42, 7)
    assert tokens.read_unsubscribe_token(settings, token) == (42, 7)


def test_preferences_token_round_trips_the_contact(settings) -> None:
    token = tokens.preferences_token(settings, 42)
    assert tokens.read_preferences_token(settings, token) == 42


def test_confirm_token_round_trips_within_its_age(settings) -> None:
    token = tokens.confirm_token(settings, 42, 7)
    assert tokens.read_confirm_token(settings, token, max_age_seconds=60) == (42, 7)


def test_tokens_carry_ids_only_never_an_address(settings) -> None:
    token = tokens.unsubscribe_token(settings, 42, 7)
    assert _payload(token) == [42, 7]
    assert "@" not in tokens.RecipientLinks(settings).links(42, 7)[0]


@pytest.mark.parametrize("token", ["", "garbage", "WzQyLDdd", "WzQyLDdd.AAAA", "a.b.c"])
def test_malformed_tokens_are_refused(settings, token: str) -> None:
    with pytest.raises(BadToken):
        tokens.read_unsubscribe_token(settings, token)


def test_an_altered_payload_is_refused(settings) -> None:
    token = tokens.unsubscribe_token(settings, 42, 7)
    with pytest.raises(BadToken):
        tokens.read_unsubscribe_token(settings, _tamper(token))


def test_a_token_for_one_purpose_is_refused_by_the_others(settings) -> None:
    unsubscribe = tokens.unsubscribe_token(settings, 42, 7)
    with pytest.raises(BadToken):
        tokens.read_confirm_token(settings, unsubscribe, max_age_seconds=60)
    with pytest.raises(BadToken):
        tokens.read_preferences_token(settings, unsubscribe)
    confirm = tokens.confirm_token(settings, 42, 7)
    with pytest.raises(BadToken):
        tokens.read_unsubscribe_token(settings, confirm)


def test_a_token_signed_with_another_key_is_refused(keyed) -> None:
    token = tokens.unsubscribe_token(keyed("someone-else"), 42, 7)
    with pytest.raises(BadToken):
        tokens.read_unsubscribe_token(keyed("key-2025"), token)


def test_a_genuinely_signed_payload_of_the_wrong_shape_is_refused(keyed) -> None:
    settings = keyed()
    forged = URLSafeSerializer(settings.secret_key, salt="unsubscribe").dumps(["42", True])
    with pytest.raises(BadToken):
        tokens.read_unsubscribe_token(settings, forged)


def test_links_sent_before_a_key_rotation_keep_working(keyed) -> None:
    before = keyed("key-2024")
    token = tokens.unsubscribe_token(before, 42, 7)
    after = keyed("key-2025", old="key-2024")
    assert tokens.read_unsubscribe_token(after, token) == (42, 7)
    # New links are signed with the new key: the old key alone no longer reads them.
    fresh = tokens.unsubscribe_token(after, 42, 7)
    assert tokens.read_unsubscribe_token(after, fresh) == (42, 7)
    with pytest.raises(BadToken):
        tokens.read_unsubscribe_token(before, fresh)


def test_a_retired_key_no_longer_verifies(keyed) -> None:
    token = tokens.preferences_token(keyed("key-2024"), 42)
    with pytest.raises(BadToken):
        tokens.read_preferences_token(keyed("key-2025"), token)


def test_an_old_confirm_token_is_expired_not_bad(settings) -> None:
    token = tokens.confirm_token(settings, 42, 7)
    later = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(ExpiredToken):
        tokens.read_confirm_token(settings, token, max_age_seconds=3600, now=later)
    assert tokens.read_confirm_token(
        settings, token, max_age_seconds=3 * 3600, now=later) == (42, 7)


def test_an_altered_confirm_token_is_bad_not_expired(settings) -> None:
    token = tokens.confirm_token(settings, 42, 7)
    with pytest.raises(BadToken) as raised:
        tokens.read_confirm_token(settings, _tamper(token), max_age_seconds=60)
    assert not isinstance(raised.value, ExpiredToken)


def test_urls_point_at_the_web_app(settings) -> None:
    base = settings.base_url.rstrip("/")
    unsubscribe, preferences, _ = tokens.RecipientLinks(settings).links(1, 2)
    assert unsubscribe == f"{base}/u/{tokens.unsubscribe_token(settings, 1, 2)}"
    assert preferences == f"{base}/preferences/{tokens.preferences_token(settings, 1)}"
    assert tokens.confirm_url(settings, 1, 2).startswith(f"{base}/confirm/")


def test_unsubscribe_mailto_carries_the_token_in_the_subject(settings) -> None:
    mailto = tokens.RecipientLinks(settings).links(1, 2)[2]
    token = tokens.unsubscribe_token(settings, 1, 2)
    assert mailto == f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe-{token}"
    assert tokens.read_unsubscribe_token(settings, mailto.rsplit("unsubscribe-", 1)[1]) == (1, 2)


def test_tokens_are_deterministic_so_every_copy_of_a_link_is_the_same(settings) -> None:
    assert tokens.unsubscribe_token(settings, 5, 6) == tokens.unsubscribe_token(settings, 5, 6)
    assert tokens.unsubscribe_token(settings, 5, 6) != tokens.unsubscribe_token(settings, 6, 5)


@pytest.mark.parametrize("contact_id, list_id", [(1, 0), (42, 7), (2**31 - 1, 123456)])
def test_a_batch_signs_the_links_itsdangerous_would(keyed, contact_id, list_id) -> None:
    """The batch's signer takes short cuts; its links are the ones itsdangerous makes and
    reads, with the newest key, after a rotation too."""
    settings = keyed("key-2025", old="key-2024")
    url, preferences, mailto = tokens.RecipientLinks(settings).links(contact_id, list_id)
    newest = URLSafeSerializer(["key-2025"], salt=tokens.UNSUBSCRIBE)
    token = newest.dumps([contact_id, list_id])
    assert url == f"{settings.base_url.rstrip('/')}/u/{token}"
    assert mailto == f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe-{token}"
    assert preferences.rsplit("/", 1)[1] == tokens.preferences_token(settings, contact_id)
    assert tokens.read_unsubscribe_token(settings, token) == (contact_id, list_id)
    assert tokens.read_preferences_token(
        settings, preferences.rsplit("/", 1)[1]) == contact_id
