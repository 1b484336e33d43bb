"""What a recipient would see, for `release preview`: one part or the whole message.

Without a viewer it is the copy of an example journalist on a trusted list; with one, the
copy that person gets (embargo-marked only if their list is trusted, their name, their time
zone, their list in the footer); `public` is the copy a public subscriber gets at the lift.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime

from config import Settings
from distribution import embargo
from distribution.mail import tokens
from distribution.mail.media import NO_MEDIA, MessageMedia
from distribution.mail.render import Recipient, load_templates, render
from distribution.store.models import Release

EXAMPLE = "journalist@example.org"


@dataclass(frozen=True)
class Viewer:
    """A contact as a recipient on one of their lists."""

    email: str
    name: str | None
    timezone: str | None
    contact_id: int
    list_id: int  # 0: on no list (the footer's links then name none)
    list_name: str | None
    trusted: bool
    list_title: str | None = None  # what the footer shows, when the list has one


def preview_bytes(settings: Settings, release: Release, part: str, now: datetime,
                  viewer: Viewer | None = None, *, public: bool = False,
                  media: MessageMedia = NO_MEDIA) -> bytes:
    """`part` is "text", "html" or "eml"."""
    if viewer is not None:
        recipient = recipient_for(settings, viewer, f"preview.{release.id}")
        marked = viewer.trusted and embargo.marked(release.embargo_until, now)
        list_name, title = viewer.list_name, viewer.list_title
    else:
        recipient = _example(settings, release)
        marked = not public and embargo.marked(release.embargo_until, now)
        list_name, title = ("public" if public else "preview"), None
    data = render(release, recipient, load_templates(settings), settings, marked=marked,
                  list_name=list_name, list_title=title, media=media)
    if part == "eml":
        return data
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",) if part == "text" else ("html",))
    assert body is not None
    content: str = body.get_content()
    return content.encode("utf-8")


def recipient_for(settings: Settings, viewer: Viewer, label: str) -> Recipient:
    """The viewer as a recipient. The footer's links have the shape of theirs but name
    nobody (contact and list 0): a preview or test copy clicked by the officer must not
    unsubscribe the contact."""
    unsubscribe, preferences, mailto = tokens.RecipientLinks(settings).links(0, 0)
    return Recipient(
        email=viewer.email, name=viewer.name, timezone=viewer.timezone,
        message_id=f"<pressroom.{label}.{viewer.contact_id}@{settings.sender_domain}>",
        unsubscribe_url=unsubscribe, preferences_url=preferences, unsubscribe_mailto=mailto,
    )


def _example(settings: Settings, release: Release) -> Recipient:
    return Recipient(
        email=EXAMPLE, name="Example Journalist", timezone=None,
        message_id=f"<pressroom.preview.{release.id}@{settings.sender_domain}>",
        unsubscribe_url=f"{settings.base_url.rstrip('/')}/u/PREVIEW",
        preferences_url=f"{settings.base_url.rstrip('/')}/preferences/PREVIEW",
        unsubscribe_mailto=f"mailto:{settings.unsubscribe_mailto}",
    )
