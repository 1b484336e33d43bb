"""Signed tokens for the links in every email: unsubscribe, preferences, confirmation.

A token carries opaque ids (contact id, list id), never an address, signed with
itsdangerous under a salt per purpose, so a token made for one page is refused by another.
It is signed with `settings.secret_key` and verified with every key in
`settings.verify_keys`, so links already sent keep working after the key is rotated.

The dispatcher calls these for every recipient: the serializers are built once per key set.
"""

from __future__ import annotations

import hmac
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial

from itsdangerous import BadData, Serializer, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import HMACAlgorithm

from config import Settings
from distribution.errors import PressroomError

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
CONFIRM = "confirm"
# Trusted copies' links to a release's photos and files, and to its page, before the lift.
MEDIA = "media"
RELEASE_PAGE = "release-page"


class BadToken(PressroomError):
    """A token that was not made by us, was altered, or was made for another purpose."""


class ExpiredToken(BadToken):
    """A genuine timed token that is older than it may be."""


class _Uncompressed:
    """Skip itsdangerous's zlib attempt: a few ids never compress, and trying costs ~0.1 ms a
    token, most of the time the dispatcher spends on links. Output and reading unchanged."""

    def dump_payload(self, obj: object) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))  # type: ignore[arg-type]


class _Ids(_Uncompressed, URLSafeSerializer):
    pass


class _TimedIds(_Uncompressed, URLSafeTimedSerializer):
    pass


@lru_cache(maxsize=16)
def _serializer(keys: tuple[str, ...], salt: str) -> URLSafeSerializer:
    # itsdangerous signs with the LAST key and verifies with all of them.
    return _Ids(list(reversed(keys)), salt=salt)


@lru_cache(maxsize=4)
def _timed_serializer(keys: tuple[str, ...], salt: str) -> URLSafeTimedSerializer:
    return _TimedIds(list(reversed(keys)), salt=salt)


def _keys(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.verify_keys)


def _dumps(settings: Settings, salt: str, ids: list[int]) -> str:
    keys = _keys(settings)
    if not all(type(item) is int for item in ids):
        return _serializer(keys, salt).dumps(ids)
    return _signer(keys, salt)(ids)


def _fast_dumps(key: bytes, ids: list[int]) -> str:
    """What itsdangerous writes for a list of ints, without its per-call objects: compact
    JSON, URL-safe base64 unpadded, "." and the HMAC-SHA1 of that. A tenth of the cost (a
    few µs); the dispatcher signs every recipient's links."""
    payload = urlsafe_b64encode(("[" + ",".join(map(str, ids)) + "]").encode()).rstrip(b"=")
    signature = urlsafe_b64encode(hmac.digest(key, payload, "sha1")).rstrip(b"=")
    return (payload + b"." + signature).decode("ascii")


def _signer(keys: tuple[str, ...], salt: str) -> Callable[[list[int]], str]:
    key = _signing_key(keys, salt)
    if key is None:
        return _serializer(keys, salt).dumps
    return partial(_fast_dumps, key)


@lru_cache(maxsize=16)
def _signing_key(keys: tuple[str, ...], salt: str) -> bytes | None:
    """The key itsdangerous derives for signing, if its signer is the HMAC-SHA1 one the fast
    path reproduces, and the two agree on a sample; else None (itsdangerous signs)."""
    signer = _serializer(keys, salt).make_signer()
    if type(signer.algorithm) is not HMACAlgorithm or signer.sep != b".":
        return None
    key = signer.derive_key()
    sample = [1234567, 0]
    return key if _fast_dumps(key, sample) == _serializer(keys, salt).dumps(sample) else None


def _loads(settings: Settings, salt: str, token: str, count: int) -> list[int]:
    try:
        payload = _serializer(_keys(settings), salt).loads(token)
    except BadData:
        raise BadToken("this link is not valid") from None
    return _ids(payload, count)


def _ids(payload: object, count: int) -> list[int]:
    # A correctly signed payload is ours, but check its shape: old formats, other salts' bugs.
    if (not isinstance(payload, list) or len(payload) != count
            or not all(type(item) is int and item >= 0 for item in payload)):
        raise BadToken("this link is not valid")
    return payload


# Unsubscribe: the List-Unsubscribe URL and the mailto subject.

def unsubscribe_token(settings: Settings, contact_id: int, list_id: int) -> str:
    return _dumps(settings, UNSUBSCRIBE, [contact_id, list_id])


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, int]:
    """(contact id, list id); list id 0 means "no particular list". Raises BadToken."""
    contact_id, list_id = _loads(settings, UNSUBSCRIBE, token, 2)
    return contact_id, list_id


def unsubscribe_url(settings: Settings, contact_id: int, list_id: int) -> str:
    return f"{_base(settings)}/u/{unsubscribe_token(settings, contact_id, list_id)}"


def unsubscribe_mailto(settings: Settings, contact_id: int, list_id: int) -> str:
    return _mailto(settings, unsubscribe_token(settings, contact_id, list_id))


class RecipientLinks:
    """Every link of one message after another, for a batch: the keys and the fixed parts
    of the URLs worked out once, where the functions above look them up per call."""

    def __init__(self, settings: Settings) -> None:
        keys = _keys(settings)
        self._unsubscribe = _signer(keys, UNSUBSCRIBE)
        self._preferences = _signer(keys, PREFERENCES)
        self._base = _base(settings)
        self._mailto = _mailto(settings, "")

    def links(self, contact_id: int, list_id: int) -> tuple[str, str, str]:
        """(unsubscribe_url, preferences_url, unsubscribe_mailto) of a contact, given ints."""
        token = self._unsubscribe([contact_id, list_id])
        preferences = self._preferences([contact_id])
        return (f"{self._base}/u/{token}", f"{self._base}/preferences/{preferences}",
                self._mailto + token)


def _mailto(settings: Settings, token: str) -> str:
    return f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe-{token}"


# Preferences: one link per contact, to every list they are on.

def preferences_token(settings: Settings, contact_id: int) -> str:
    return _dumps(settings, PREFERENCES, [contact_id])


def read_preferences_token(settings: Settings, token: str) -> int:
    """The contact id. Raises BadToken."""
    return _loads(settings, PREFERENCES, token, 1)[0]


def preferences_url(settings: Settings, contact_id: int) -> str:
    return f"{_base(settings)}/preferences/{preferences_token(settings, contact_id)}"


# Confirmation (double opt-in): timed, because the email may reach the wrong person late.

@dataclass(frozen=True)
class SignupRequest:
    """What a confirmation link confirms: one sign-up, not any later one for the same pair.

    sent_at binds the link to the confirmation email it came in (the subscription's
    confirm_sent_at, in whole seconds); name and language are what the form offered, written
    onto the contact only once the mailbox owner confirms. None: a link from before these.
    """

    contact_id: int
    list_id: int
    sent_at: int | None = None
    name: str | None = None
    language: str | None = None


def confirm_token(settings: Settings, contact_id: int, list_id: int, *,
                  sent_at: int | None = None, name: str | None = None,
                  language: str | None = None) -> str:
    payload: list[object] = [contact_id, list_id]
    if sent_at is not None:
        payload += [sent_at, name or "", language or ""]
    return _timed_serializer(_keys(settings), CONFIRM).dumps(payload)


def read_confirm_token(settings: Settings, token: str, max_age_seconds: int,
                       now: datetime | None = None) -> tuple[int, int]:
    """(contact id, list id) of a confirmation token younger than max_age_seconds at `now`.

    Raises ExpiredToken when it is genuine but too old, BadToken when it is not genuine.
    """
    request = read_signup_request(settings, token, max_age_seconds, now)
    return request.contact_id, request.list_id


def read_signup_request(settings: Settings, token: str, max_age_seconds: int,
                        now: datetime | None = None) -> SignupRequest:
    try:
        payload, signed_at = _timed_serializer(_keys(settings), CONFIRM).loads(
            token, return_timestamp=True)
    except BadData:
        raise BadToken("this link is not valid") from None
    request = _signup_request(payload)
    age = ((now or datetime.now(UTC)) - signed_at).total_seconds()
    if age > max_age_seconds:
        raise ExpiredToken("this link has expired")
    return request


def _signup_request(payload: object) -> SignupRequest:
    if isinstance(payload, list) and len(payload) == 5:
        contact_id, list_id, sent_at = _ids(payload[:3], 3)
        name, language = payload[3:]
        if isinstance(name, str) and isinstance(language, str):
            return SignupRequest(contact_id, list_id, sent_at, name or None, language or None)
        raise BadToken("this link is not valid")
    contact_id, list_id = _ids(payload, 2)
    return SignupRequest(contact_id, list_id)


def confirm_url(settings: Settings, contact_id: int, list_id: int, **signup: object) -> str:
    token = confirm_token(settings, contact_id, list_id, **signup)  # type: ignore[arg-type]
    return f"{_base(settings)}/confirm/{token}"


# Media and the release page for trusted copies: per distribution, so the links of a
# distribution are made once, and the web app refuses them once the release is withdrawn.

def media_token(settings: Settings, media_id: int, distribution_id: int) -> str:
    return _dumps(settings, MEDIA, [media_id, distribution_id])


def read_media_token(settings: Settings, token: str) -> tuple[int, int]:
    """(media id, distribution id). Raises BadToken."""
    media_id, distribution_id = _loads(settings, MEDIA, token, 2)
    return media_id, distribution_id


def release_page_token(settings: Settings, release_id: int, distribution_id: int) -> str:
    return _dumps(settings, RELEASE_PAGE, [release_id, distribution_id])


def read_release_page_token(settings: Settings, token: str) -> tuple[int, int]:
    """(release id, distribution id). Raises BadToken."""
    release_id, distribution_id = _loads(settings, RELEASE_PAGE, token, 2)
    return release_id, distribution_id


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")
