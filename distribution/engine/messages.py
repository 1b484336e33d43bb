"""Per-recipient messages of a distribution: the prepared render plus cheap personal parts."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from distribution import embargo
from distribution.engine.claims import Claimed
from distribution.errors import InvalidInput
from distribution.mail import tokens
from distribution.mail.media import NO_MEDIA, MessageMedia
from distribution.mail.render import PreparedMessage, Recipient, load_templates, prepare
from distribution.mail.signing.dkim import configured_signer
from distribution.mail.signing.verp import Verp
from distribution.media.mailing import message_media
from distribution.releases import languages
from distribution.releases.catalogue import family
from distribution.store.db import one_of
from distribution.store.installation import installation_token
from distribution.store.models import (
    CARRIES_RELEASE,
    Contact,
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionKind,
    MailingList,
    Release,
)

# A notice about a corrected release speaks of the whole release: its recipients may hold
# a language version of any text it corrected.
_WHOLE_RELEASE = frozenset({DistributionKind.NOTICE_MOVED, DistributionKind.NOTICE_LIFTED,
                            DistributionKind.NOTICE_WITHDRAWN})


def _originals(session: Session, distribution: Distribution) -> list[int]:
    """The releases whose language versions this distribution may render."""
    ids, release = [distribution.release.id], distribution.release
    while DistributionKind(distribution.kind) in _WHOLE_RELEASE and release.corrects_id:
        release = session.get_one(Release, release.corrects_id)
        ids.append(release.id)
    return ids


class MessageError(InvalidInput):
    """The message cannot be made for anyone (templates, headers): waiting will not mend it."""


# What making a message can raise for reasons in the release, the settings or the site's
# templates, never in one recipient.
_MAKING_ERRORS = (ValueError, jinja2.TemplateError, OSError)


@dataclass(frozen=True)
class Built:
    data: bytes
    message_id: str
    marked: bool
    error: str | None = None   # the message could not be built for this recipient
    data_block: bytes | None = None  # `data` as SMTP sends it
    sender: str = ""   # the envelope sender: the delivery's own VERP address when set


@lru_cache(maxsize=8)
def _templates(settings: Settings) -> jinja2.Environment:
    return load_templates(settings)


# Preparing costs ~50 ms (templates, CSS inlining, serialisation), as much as personalising
# hundreds of messages, and a worker runs many batches of one release: this process keeps
# the recent ones. Keyed by everything the message is made of, so an edit is never missed.
_PREPARED: OrderedDict[Hashable, PreparedMessage] = OrderedDict()
_PREPARED_KEEP = 16


def prepared_message(release: Release, settings: Settings, *, marked: bool,
                     list_name: str | None, kind: DistributionKind,
                     note: str | None, media: MessageMedia = NO_MEDIA,
                     list_title: str | None = None) -> PreparedMessage:
    templates = _templates(settings)
    key = (_fingerprint(release), settings, marked, list_name, list_title, kind, note, media,
           _loaded_templates(templates))
    found = _PREPARED.get(key)
    if found is None:
        found = _PREPARED[key] = prepare(release, settings, templates, marked=marked,
                                         list_name=list_name, kind=kind.value, note=note,
                                         media=media, list_title=list_title)
        if len(_PREPARED) > _PREPARED_KEEP:
            _PREPARED.popitem(last=False)
    _PREPARED.move_to_end(key)
    return found


def checked_message(release: Release, settings: Settings, *, marked: bool,
                    list_name: str | None, kind: DistributionKind,
                    note: str | None, media: MessageMedia = NO_MEDIA,
                    list_title: str | None = None) -> PreparedMessage:
    """`prepared_message`, its failures as one MessageError saying why."""
    try:
        return prepared_message(release, settings, marked=marked, list_name=list_name,
                                kind=kind, note=note, media=media, list_title=list_title)
    except _MAKING_ERRORS as exc:
        raise MessageError(f"cannot build the message: {exc}") from exc


def load_templates_now(settings: Settings) -> None:
    """Read and compile every email template, so the first batch does not wait for it."""
    _loaded_templates(_templates(settings))


def _fingerprint(release: Release) -> str:
    """Every column of the release: any change (an embargo moved, a typo fixed) is new."""
    return repr([getattr(release, a.key) for a in Release.__mapper__.column_attrs])


def _loaded_templates(templates: jinja2.Environment) -> tuple[jinja2.Template, ...]:
    # Jinja reloads a template whose file changed as a new object: the identities of all
    # of them (includes and layouts too) say whether a prepared message is still current.
    names = [n for n in templates.list_templates() if n.endswith(".j2")]
    return tuple(templates.get_template(name) for name in names)


def message_id_key(settings: Settings) -> bytes:
    return hashlib.sha256(b"pressroom message-id\0" + settings.secret_key.encode()).digest()


def _message_id(domain: str, installation: str, key: bytes, distribution_id: int,
                delivery_id: int) -> str:
    """Stable across retries, so a receiver can drop a copy it already has; unique to this
    installation (its database's random token), so no other install repeats it; signed, so
    that nobody can work out another recipient's from their own (a bounce that quotes one
    is proof that it answers that copy)."""
    ids = f"{distribution_id}.{delivery_id}"
    mac = hmac.new(key, ids.encode(), hashlib.sha256).digest()[:10]
    signature = base64.b32encode(mac).decode().lower()
    return f"<pressroom.{ids}.{installation}.{signature}@{domain}>"


def held_copies(session: Session, distribution: Distribution,
                contact_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """For a notice or correction: the Message-IDs of the release copies each recipient
    holds, oldest first, so the follow-up threads with them. One query per batch."""
    if distribution.kind is DistributionKind.RELEASE or distribution.kind is DistributionKind.TEST:
        return {}
    versions = [r.id for r in family(session, distribution.release_id)]
    rows = session.execute(
        select(Delivery.contact_id, Delivery.message_id)
        .join(Distribution, Distribution.id == Delivery.distribution_id)
        .where(Distribution.release_id.in_(versions), Distribution.id != distribution.id,
               Distribution.kind.in_(CARRIES_RELEASE),
               Delivery.status == DeliveryStatus.SENT, Delivery.message_id.is_not(None),
               one_of(session, Delivery.contact_id, contact_ids))
        .order_by(Delivery.sent_at, Delivery.id))
    held: dict[int, list[str]] = {}
    for contact_id, mid in rows:
        if mid is not None:  # the query asks for none, but the column may hold one
            held.setdefault(contact_id, []).append(mid)
    # The last few are enough to thread; a long chain of corrections stays a short header.
    return {contact: tuple(ids[-5:]) for contact, ids in held.items()}


# A list as its members' messages name it: (slug, title or None).
ListLabel = tuple[str, str | None]


class MessageFactory:
    """Renders each (version, marked, list) variant once per batch, then personalises per row.

    A contact's language picks the release's version in it (the original when there is
    none); the choice is a dictionary lookup per row, the render once per version.
    """

    def __init__(self, settings: Settings, distribution: Distribution, release: Release,
                 contacts: dict[int, tuple[str | None, str | None, str | None]],
                 lists: dict[int, ListLabel],
                 media: tuple[MessageMedia, MessageMedia] = (NO_MEDIA, NO_MEDIA),
                 versions: list[Release] | None = None, *,
                 installation: str = "0",
                 held: dict[int, tuple[str, ...]] | None = None) -> None:
        self.settings = settings
        self.distribution_id = distribution.id
        self.kind = DistributionKind(distribution.kind)
        self.note = distribution.note
        self.release = release
        self.contacts = contacts
        self.lists = lists
        self._versions = {v.language: v for v in versions or ()}
        self._by_language: dict[str | None, Release] = {}
        self._prepared: dict[tuple[int, bool, ListLabel | None], PreparedMessage] = {}
        self._domain = settings.sender_domain  # parsed from the From address: once
        self._links = tokens.RecipientLinks(settings)
        self._verp = Verp(settings)
        self._dkim = configured_signer(settings)
        self._marked_at: tuple[datetime | None, bool] = (None, False)
        self._installation = installation
        self._id_key = message_id_key(settings)
        self._held = held or {}
        self._media = media  # (for unmarked copies, for marked ones: signed links)

    @classmethod
    def for_batch(cls, session: Session, settings: Settings, distribution: Distribution,
                  batch: list[Claimed]) -> MessageFactory:
        ids = [c.contact_id for c in batch]
        contacts = {row.id: (row.name, row.timezone, row.language) for row in session.execute(
            select(Contact.id, Contact.name, Contact.timezone, Contact.language)
            .where(one_of(session, Contact.id, ids)))}
        # Every list's slug and title in one query: a title changed since the last batch
        # is read again, and no row costs a query of its own.
        lists = {row.id: (row.name, row.title) for row in session.execute(
            select(MailingList.id, MailingList.name, MailingList.title))}
        held = held_copies(session, distribution, ids)
        installation = installation_token(session)
        release = distribution.release
        media = (NO_MEDIA, NO_MEDIA)
        if distribution.kind in CARRIES_RELEASE:
            media = (message_media(session, settings, release.id,
                                   distribution_id=distribution.id, signed=False),
                     message_media(session, settings, release.id,
                                   distribution_id=distribution.id, signed=True))
        # Language versions share the original's photos and files.
        versions = list(session.scalars(
            select(Release).where(Release.version_of_id.in_(_originals(session, distribution)))))
        for item in (release, *versions):
            session.expunge(item)
        return cls(settings, distribution, release, contacts, lists, media, versions,
                   installation=installation, held=held)

    def build(self, claimed: Claimed, now: datetime) -> Built:
        marked = self._marked(now)
        label = self.lists.get(claimed.list_id) if claimed.list_id else None
        name, zone, language = self.contacts.get(claimed.contact_id, (None, None, None))
        prepared = self._variant(self._version(language), marked, label)
        mid = _message_id(self._domain, self._installation, self._id_key,
                          self.distribution_id, claimed.id)
        sender = self._verp.sender(claimed.id)
        unsubscribe_url, preferences_url, unsubscribe_mailto = self._links.links(
            claimed.contact_id, claimed.list_id or 0)
        recipient = Recipient(
            email=claimed.email, name=name, timezone=zone, message_id=mid,
            unsubscribe_url=unsubscribe_url, preferences_url=preferences_url,
            unsubscribe_mailto=unsubscribe_mailto,
            references=self._held.get(claimed.contact_id, ()),
        )
        try:
            data, block = prepared.personalise_for_smtp(recipient, date=now)
            if self._dkim is not None:
                # A header in front: the data block takes the same lines (none starts
                # with a dot).
                signature = self._dkim.signature_lines(data, now.timestamp())
                data, block = signature + data, signature + block
            return Built(data, mid, marked, data_block=block, sender=sender)
        except ValueError as exc:
            # One bad address or name must not stop the batch: that row fails alone.
            return Built(b"", mid, marked, f"cannot build the message: {exc}", sender=sender)

    def _marked(self, now: datetime) -> bool:
        """Whether copies sent at `now` carry the embargo marks; a group shares one `now`."""
        at, marked = self._marked_at
        if at != now:
            marked = self.kind is DistributionKind.NOTICE_MOVED or (
                self.kind in CARRIES_RELEASE and embargo.marked(self.release.embargo_until, now))
            self._marked_at = (now, marked)
        return marked

    def _version(self, language: str | None) -> Release:
        found = self._by_language.get(language)
        if found is None:
            code = languages.pick(language, self._versions, fallback="")
            found = self._by_language[language] = self._versions.get(code, self.release)
        return found

    def _variant(self, release: Release, marked: bool, label: ListLabel | None,
                 ) -> PreparedMessage:
        key = (release.id, marked, label)
        if key not in self._prepared:
            name, title = label or (None, None)
            self._prepared[key] = checked_message(
                release, self.settings, marked=marked, list_name=name, list_title=title,
                kind=self.kind, note=self.note, media=self._media[marked])
        return self._prepared[key]
