"""Per-recipient messages of a distribution: the prepared render plus cheap personal parts."""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from distribution import embargo
from distribution.embargo.texts import Choice, Texts, held_copies
from distribution.engine.claims import Claimed
from distribution.errors import InvalidInput
from distribution.mail import tokens
from distribution.mail.media import NO_MEDIA, MessageMedia
from distribution.mail.render import PreparedMessage, Recipient, load_templates, prepare
from distribution.mail.signing.dkim import configured_signer
from distribution.mail.signing.verp import Verp, lower_base32
from distribution.media.mailing import distribution_media, online_url
from distribution.releases.families import family_of
from distribution.smtpdata import data_block
from distribution.store.db import one_of
from distribution.store.installation import installation_token
from distribution.store.models import (
    CARRIES_RELEASE,
    Contact,
    Distribution,
    DistributionKind,
    MailingList,
    Release,
)


class MessageError(InvalidInput):
    """The message cannot be made for anyone (templates, headers): waiting will not mend it."""


# What making a message can raise for reasons in the release, the settings or the site's
# templates, never in one recipient: a site template may divide by zero, add a number to a
# text, index past a list's end or call a macro without end, as well as misspell a name.
_MAKING_ERRORS = (ValueError, ArithmeticError, TypeError, LookupError, RecursionError,
                  jinja2.TemplateError, OSError)


@dataclass(frozen=True)
class Built:
    data_block: bytes  # the message as SMTP's DATA carries it (Envelope.message undoes it)
    message_id: str
    marked: bool
    error: str | None = None   # the message could not be built for this recipient
    sender: str = ""   # the envelope sender: the delivery's own VERP address when set
    text_id: int | None = None  # the text it carries (a language version, a correction)


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
                     list_title: str | None = None,
                     notice_language: str | None = None) -> PreparedMessage:
    templates = _templates(settings)
    key = (_fingerprint(release), settings, marked, list_name, list_title, kind, note, media,
           notice_language, _loaded_templates(templates))
    found = _PREPARED.get(key)
    if found is None:
        found = _PREPARED[key] = prepare(release, settings, templates, marked=marked,
                                         list_name=list_name, kind=kind.value, note=note,
                                         media=media, list_title=list_title,
                                         notice_language=notice_language)
        if len(_PREPARED) > _PREPARED_KEEP:
            _PREPARED.popitem(last=False)
    _PREPARED.move_to_end(key)
    return found


def checked_message(release: Release, settings: Settings, *, marked: bool,
                    list_name: str | None, kind: DistributionKind,
                    note: str | None, media: MessageMedia = NO_MEDIA,
                    list_title: str | None = None,
                    notice_language: str | None = None) -> PreparedMessage:
    """`prepared_message`, its failures as one MessageError saying why."""
    try:
        return prepared_message(release, settings, marked=marked, list_name=list_name,
                                kind=kind, note=note, media=media, list_title=list_title,
                                notice_language=notice_language)
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
    signature = lower_base32(hmac.digest(key, ids.encode(), "sha256")[:10])
    return f"<pressroom.{ids}.{installation}.{signature}@{domain}>"


# A list as its members' messages name it: (slug, title or None).
ListLabel = tuple[str, str | None]


class MessageFactory:
    """Renders each (text, marked, list) variant once per batch, then personalises per row.

    Which text each recipient gets (their language's, or the one they hold: engine.texts)
    is a dictionary lookup per row, the render once per text.
    """

    def __init__(self, settings: Settings, distribution: Distribution, release: Release,
                 contacts: dict[int, tuple[str | None, str | None, str | None]],
                 lists: dict[int, ListLabel],
                 media: tuple[MessageMedia, MessageMedia] = (NO_MEDIA, NO_MEDIA),
                 versions: list[Release] | None = None, *,
                 installation: str = "0", texts: Texts | None = None) -> None:
        self.settings = settings
        self.distribution_id = distribution.id
        self.kind = DistributionKind(distribution.kind)
        self.note = distribution.note
        self.release = release
        self.contacts = contacts
        self.lists = lists
        self._texts = texts or Texts.plain(self.kind, release, versions or [])
        self._prepared: dict[tuple[int, str, bool, ListLabel | None], PreparedMessage] = {}
        self._domain = settings.sender_domain  # parsed from the From address: once
        self._links = tokens.RecipientLinks(settings)
        self._verp = Verp(settings)
        self._dkim = configured_signer(settings)
        self._marked_at: tuple[datetime | None, bool] = (None, False)
        self._installation = installation
        self._id_key = message_id_key(settings)
        self._media = media  # (for unmarked copies, for marked ones: signed links)
        self._online: dict[tuple[int, bool], MessageMedia] = {}

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
        release = distribution.release
        family = family_of(session, release.id)
        held = held_copies(session, distribution, family, ids)
        installation = installation_token(session)
        media = (NO_MEDIA, NO_MEDIA)
        if distribution.kind in CARRIES_RELEASE:
            media = distribution_media(session, settings, release.id, family=family,
                                       distribution_id=distribution.id)
        for item in family.members:
            session.expunge(item)
        return cls(settings, distribution, release, contacts, lists, media,
                   installation=installation,
                   texts=Texts(DistributionKind(distribution.kind), release, family, held))

    def build(self, claimed: Claimed, now: datetime) -> Built:
        marked = self._marked(now)
        label = self.lists.get(claimed.list_id) if claimed.list_id else None
        name, zone, language = self.contacts.get(claimed.contact_id, (None, None, None))
        choice = self._texts.choose(claimed.contact_id, language)
        prepared = self._variant(choice, marked, label)
        mid = _message_id(self._domain, self._installation, self._id_key,
                          self.distribution_id, claimed.id)
        sender = self._verp.sender(claimed.id)
        unsubscribe_url, preferences_url, unsubscribe_mailto = self._links.links(
            claimed.contact_id, claimed.list_id or 0)
        recipient = Recipient(
            email=claimed.email, name=name, timezone=zone, message_id=mid,
            unsubscribe_url=unsubscribe_url, preferences_url=preferences_url,
            unsubscribe_mailto=unsubscribe_mailto,
            references=self._texts.references(claimed.contact_id),
        )
        try:
            if self._dkim is None:
                block = prepared.personalise_for_smtp(recipient, date=now)
            else:  # signed over the message, which then becomes the block
                message = prepared.personalise(recipient, date=now)
                block = data_block(self._dkim.signature_lines(message, now.timestamp())
                                   + message)
            return Built(block, mid, marked, sender=sender, text_id=choice.text.id)
        except ValueError as exc:
            # One bad address or name must not stop the batch: that row fails alone.
            return Built(b"", mid, marked, f"cannot build the message: {exc}", sender=sender,
                         text_id=choice.text.id)

    def _marked(self, now: datetime) -> bool:
        """Whether copies sent at `now` carry the embargo marks; a group shares one `now`."""
        at, marked = self._marked_at
        if at != now:
            marked = self.kind is DistributionKind.NOTICE_MOVED or (
                self.kind in CARRIES_RELEASE and embargo.marked(self.release.embargo_until, now))
            self._marked_at = (now, marked)
        return marked

    def _variant(self, choice: Choice, marked: bool, label: ListLabel | None,
                 ) -> PreparedMessage:
        text = choice.text
        key = (text.id, choice.notice_language, marked, label)
        if key not in self._prepared:
            name, title = label or (None, None)
            self._prepared[key] = checked_message(
                text, self.settings, marked=marked, list_name=name, list_title=title,
                kind=self.kind, note=self.note, media=self._media_of(text, marked),
                notice_language=choice.notice_language)
        return self._prepared[key]

    def _media_of(self, text: Release, marked: bool) -> MessageMedia:
        """The distribution's photos and files; "View online" at the text's own page."""
        key = (text.id, marked)
        found = self._online.get(key)
        if found is None:
            media = self._media[marked]
            if media.online_url is not None and text.id != self.release.id:
                media = replace(media, online_url=online_url(
                    self.settings, self._texts.family, text,
                    distribution_id=self.distribution_id if marked else None))
            found = self._online[key] = media
        return found
