"""What a recipient would see, for `release preview`: one part or the whole message."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime

from config import Settings
from distribution import embargo
from distribution.mail.media import NO_MEDIA, MessageMedia
from distribution.mail.render import Recipient, load_templates, render
from distribution.store.models import Release

EXAMPLE = "journalist@example.org"


def preview_bytes(settings: Settings, release: Release, part: str, now: datetime,
                  media: MessageMedia = NO_MEDIA) -> bytes:
    """`part` is "text", "html" or "eml"; marked as a trusted copy would be, if embargoed."""
    recipient = Recipient(
        email=EXAMPLE, name="Example Journalist", timezone=None,
        message_id=f"<pressroom.preview.{release.id}@{settings.sender_domain}>",
        unsubscribe_url=f"{settings.base_url.rstrip('/')}/u/PREVIEW",
        preferences_url=f"{settings.base_url.rstrip('/')}/preferences/PREVIEW",
        unsubscribe_mailto=f"mailto:{settings.unsubscribe_mailto}",
    )
    data = render(release, recipient, load_templates(settings), settings,
                  marked=embargo.marked(release.embargo_until, now), list_name="preview",
                  media=media)
    if part == "eml":
        return data
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",) if part == "text" else ("html",))
    assert body is not None
    return body.get_content().encode("utf-8")
