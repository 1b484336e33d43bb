"""Checks made before a distribution is recorded: what would fail every message fails now.

A site template that does not render, or an outbox folder that cannot be written, used to
be found by the first batch, after the distribution and its rows were recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from config import Settings
from distribution import embargo
from distribution.engine.messages import checked_message
from distribution.errors import InvalidInput
from distribution.store.models import DistributionKind, Release
from distribution.transport import TransportError

# A list as the message names it: (slug, title or None).
Label = tuple[str | None, str | None]


def check_can_send(settings: Settings, release: Release, labels: Sequence[Label],
                   now: datetime) -> None:
    """Raise InvalidInput (one line) if no message of this send could be made or stored."""
    marked = embargo.marked(release.embargo_until, now)
    for list_name, title in list(labels[:1]) or [(None, None)]:
        checked_message(release, settings, marked=marked, list_name=list_name,
                        list_title=title, kind=DistributionKind.RELEASE, note=None)
    if not settings.smtp_url:
        from distribution.transport.outbox import check_outbox

        try:
            check_outbox(settings.outbox)
        except TransportError as exc:
            raise InvalidInput(str(exc)) from None
