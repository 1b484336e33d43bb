"""The store: typed SQLAlchemy models for releases, contacts, lists and deliveries."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings so raw SQL (the claim queries) can compare them.
    return Enum(cls, name=name, native_enum=False, length=20,
                values_callable=lambda members: [m.value for m in members])


class Base(DeclarativeBase):
    pass


class ReleaseStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"
    WITHDRAWN = "withdrawn"


class SubscriptionStatus(enum.StrEnum):
    PENDING = "pending"          # double opt-in not yet confirmed
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


class DistributionKind(enum.StrEnum):
    RELEASE = "release"
    TEST = "test"
    NOTICE_MOVED = "notice_moved"
    NOTICE_LIFTED = "notice_lifted"
    NOTICE_WITHDRAWN = "notice_withdrawn"
    CORRECTION = "correction"


# Kinds that carry the release text itself: their recipients hold a copy, and the embargo
# rule and its marks apply to them.
CARRIES_RELEASE = (DistributionKind.RELEASE, DistributionKind.CORRECTION)


class DistributionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"      # waiting for send_at
    SENDING = "sending"
    PAUSED = "paused"            # by an operator, or automatically (see paused_reason)
    DONE = "done"
    CANCELLED = "cancelled"


# A distribution that may still send something.
UNFINISHED_DISTRIBUTIONS = (DistributionStatus.SCHEDULED, DistributionStatus.SENDING,
                            DistributionStatus.PAUSED)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"          # claimed by a batch
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"                # public recipient waiting for the embargo to lift
    CANCELLED = "cancelled"
    BOUNCED = "bounced"          # accepted, then bounced back as undeliverable (a DSN)
    COMPLAINED = "complained"    # the recipient reported it as spam (an ARF report)


# A delivery its distribution still has to send (or finish sending).
UNFINISHED_DELIVERIES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.HELD)


class Release(Base):
    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    headline: Mapped[str] = mapped_column(Text)
    subheadline: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="en")
    dateline_place: Mapped[str | None] = mapped_column(String(200))
    dateline_date: Mapped[date | None] = mapped_column(Date)
    dateline_text: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    end_marker: Mapped[str] = mapped_column(String(20), default="-ENDS-")
    # True when the text had none and the house marker was put in its place.
    end_marker_added: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())
    media_contacts: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, default=list)
    boilerplate_heading: Mapped[str | None] = mapped_column(String(200))
    boilerplate: Mapped[str | None] = mapped_column(Text)
    embargo_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    embargo_zone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ReleaseStatus] = mapped_column(
        _enum(ReleaseStatus, "release_status"), default=ReleaseStatus.DRAFT)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    # A language version names its family's first release (releases.families): they share
    # embargo, distributions and address. A correction of a version names it too.
    version_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", name="fk_releases_version_of"), index=False)
    source_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Approval (distribution/accountability/approval.py): every change counts a revision;
    # the release is approved while approved_revision equals it.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    changed_by: Mapped[str | None] = mapped_column(String(100))   # who added or last changed it
    approved_revision: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_releases_version_of", "version_of_id"),)

    @property
    def original_id(self) -> int:
        """The release whose distributions carry every language version."""
        return self.version_of_id or self.id


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    outlet: Mapped[str | None] = mapped_column(String(200))
    beat: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # One person, one address: Reporter@News.example.com is reporter@news.example.com.
    # `email` keeps the first spelling seen, for display and for sending.
    __table_args__ = (Index("uq_contacts_email_folded", func.lower(email), unique=True),)


class MailingList(Base):
    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # What the public reads (sign-up pages); the name is the slug commands use.
    title: Mapped[str | None] = mapped_column(String(200))
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    # Open to sign-up through the public subscribe form (double opt-in).
    open_signup: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(Base):
    """A contact on a list.

    No foreign key to lists (migration 0003): its check was a trigger call per row, 0.5 to
    1 s of importing 100,000 contacts into one list. Rows are written only for a list read
    in the same transaction, and nothing deletes lists; code that comes to delete one must
    delete its subscriptions too. contact_id keeps its key and ON DELETE CASCADE.
    """

    __tablename__ = "subscriptions"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        _enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.SUBSCRIBED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consent record for double opt-in: when, from where, which form and wording.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_form: Mapped[str | None] = mapped_column(String(100))
    consent_wording: Mapped[str | None] = mapped_column(String(40))
    # The last confirmation email sent for this sign-up (a limit per address, not per client).
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()
    mailing_list: Mapped[MailingList] = relationship(
        primaryjoin="foreign(Subscription.list_id) == MailingList.id")

    __table_args__ = (Index("ix_subscriptions_list_status", "list_id", "status"),)


class Segment(Base):
    """A named audience: lists, narrowed by conditions on contact fields."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    list_names: Mapped[list[str]] = mapped_column(JSON)
    # {field: [values]}: a contact matches when every field holds one of its values.
    conditions: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suppression(Base):
    """Addresses never mailed again: hard bounces, complaints, 'unsubscribe from all'."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Distribution(Base):
    __tablename__ = "distributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    kind: Mapped[DistributionKind] = mapped_column(
        _enum(DistributionKind, "distribution_kind"), default=DistributionKind.RELEASE)
    status: Mapped[DistributionStatus] = mapped_column(
        _enum(DistributionStatus, "distribution_status"), default=DistributionStatus.SCHEDULED)
    list_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_zone: Mapped[str | None] = mapped_column(String(64))
    # The distribution a notice or correction follows up (its recipients are the sent ones).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("distributions.id"))
    note: Mapped[str | None] = mapped_column(Text)          # what a notice/correction says
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # Trouble the engine retries by itself (the SMTP server down): shown until mail flows.
    waiting_reason: Mapped[str | None] = mapped_column(Text)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    release: Mapped[Release] = relationship()

    __table_args__ = (Index("ix_distributions_status_send_at", "status", "send_at"),)


class Delivery(Base):
    """One recipient of one distribution: the idempotency key of every send.

    No foreign keys (migration 0003): their per-row checks were more than half the time of
    creating a large distribution's rows. Rows are only inserted by INSERT ... SELECT from
    existing contacts and lists (or earlier deliveries) for a distribution flushed in the same
    transaction, and moved only to such a distribution; nothing deletes a contact, a list or
    a distribution that has rows. The email is copied, so a row needs neither table to be
    sent; code that comes to delete a parent must handle its rows itself.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(320))
    # From a trusted list: may receive the release, marked, before the embargo lifts.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    list_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    embargo_marked: Mapped[bool | None] = mapped_column(Boolean)
    message_id: Mapped[str | None] = mapped_column(String(255))
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_reply: Mapped[str | None] = mapped_column(Text)  # the server's words, e.g. a queue id
    last_error: Mapped[str | None] = mapped_column(Text)
    # The release, on rows of release distributions only (notices and corrections go to
    # the same people on purpose), and which copy of it this person gets: the unique index
    # lets two sends at once not both schedule someone; `send --again` makes copy 2.
    release_id: Mapped[int | None] = mapped_column(Integer)
    copy: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    bounce_diagnostic: Mapped[str | None] = mapped_column(Text)  # from a DSN or ARF mailed back
    # The text this copy carried (a language version or a correction: a releases row),
    # recorded when it is sent; None on rows sent before it was kept: the distribution's
    # release. A correction of one language goes to exactly those who were sent it.
    version_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("distribution_id", "contact_id", name="uq_delivery_recipient"),
        Index("uq_delivery_release_copy", "release_id", "contact_id", "copy", unique=True),
        # The claim, the reaper and "anything in flight?" go by distribution and status.
        Index("ix_deliveries_claim", "distribution_id", "status", "id"),
        # For the lift. Partial: a row is in it only while held, so writing pending rows
        # and marking them sent leaves it alone (an index on status held every row).
        Index("ix_deliveries_held", "distribution_id",
              postgresql_where=text("status = 'held'"), sqlite_where=text("status = 'held'")),
    )


class MediaKind(enum.StrEnum):
    IMAGE = "image"   # a photo: shown in the email and on the release page
    FILE = "file"     # a document: linked for download, never attached to bulk mail


class ReleaseMedia(Base):
    """A photo or file of a release. The bytes live in the media store, by sha256.

    `public_key` is the random part of its public address: nobody can guess the address of
    an embargoed photo, and the web app answers it only once the release is public.
    """

    __tablename__ = "release_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    kind: Mapped[MediaKind] = mapped_column(_enum(MediaKind, "media_kind"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # Resized copies made once, when the photo is attached: {"1200": {"sha256": ..., ...}}.
    renditions: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(String(300))
    alt: Mapped[str | None] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(43), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_release_media_release", "release_id", "position"),)


class MediaBlob(Base):
    """Media bytes, by content hash, for deployments that keep media in the database."""

    __tablename__ = "media_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReleaseMediaOptions(Base):
    """How a release's photos travel in email; no row means the default (links)."""

    __tablename__ = "release_media_options"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)
    inline_photos: Mapped[bool] = mapped_column(Boolean, default=False)
class Operator(Base):
    """A person who runs Pressroom, with a role (distribution/accountability/roles.py)."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListSender(Base):
    """A trusted list restricted to named operators: only they may send to it."""

    __tablename__ = "list_senders"

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"),
                                         primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"),
                                             primary_key=True)


class AuditEntry(Base):
    """One line of the append-only audit log: a trigger refuses UPDATE and DELETE.

    Names, not foreign keys: an entry outlives the operator, release or contact it names.
    A subscriber is named by contact id, never by address.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)          # the database's clock
    actor: Mapped[str] = mapped_column(String(100))
    actor_kind: Mapped[str] = mapped_column(String(20))       # operator, implicit, system...
    origin: Mapped[str] = mapped_column(String(200))          # host and pid, or web client
    action: Mapped[str] = mapped_column(String(40))
    object: Mapped[str] = mapped_column(String(100))
    release_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_release", "release_id"),
        Index("ix_audit_log_actor", "actor"),
    )




class Installation(Base):
    """One row: this database's own random id, carried by every Message-ID it makes."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class BounceKind(enum.StrEnum):
    HARD = "hard"                # permanent failure: the address is suppressed
    SOFT = "soft"                # delayed or temporary: suppressed after repeated ones
    COMPLAINT = "complaint"      # a spam report: suppressed from every list


class Bounce(Base):
    """A bounce or complaint mailed back, one row per report and recipient."""

    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Of the report and recipient: the same report fed twice is recorded once.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(20))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_bounces_email", "email"),
                      Index("ix_bounces_delivery", "delivery_id"))
