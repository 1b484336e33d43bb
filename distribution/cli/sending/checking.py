"""The checks of a send (its templates render, its outbox takes files), in a thread.

Rendering the first message needs the rendering modules and the compiled templates, some
300 ms on a small machine; recording 100,000 recipients is one INSERT that keeps the
database busy for more than that while this process only waits (the driver lets go of the
interpreter). With --yes the checks run alongside the INSERT, on a copy of the release (the
session stays the main thread's), and the transaction waits for their verdict: a refusal
still records nothing. The thread then loads the broker's client for the hand-over.

Rendering runs the site's own templates: one that loops is refused after RENDER_LIMIT
seconds, rather than leave the command hanging (holding the transaction's locks, with
--yes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime

from config import Settings
from distribution.errors import InvalidInput
from distribution.store.models import MailingList, Release

RENDER_LIMIT = 10.0  # seconds; a message renders in about 50 ms


class Checking:
    """Started at once; result() waits for the verdict and raises the refusal, if any."""

    def __init__(self, settings: Settings, release: Release, lists: Sequence[MailingList],
                 now: datetime) -> None:
        self._settings = settings
        # Copies read here, in the session's thread: the check never touches the session.
        self._release = Release(**{a.key: getattr(release, a.key)
                                   for a in Release.__mapper__.column_attrs})
        self._labels = [(m.name, m.title) for m in lists]
        self._now = now
        self._error: BaseException | None = None
        self._deadline = time.monotonic() + RENDER_LIMIT
        self._thread = threading.Thread(target=self._run, name="send checks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            from distribution.engine import preflight  # rendering: loaded in this thread

            preflight.check_can_send(self._settings, self._release, self._labels, self._now)
            if self._settings.broker_url:
                # The Celery client for the hand-over, and the Redis transport it loads at
                # its first message: loaded here while PostgreSQL writes the rows.
                import kombu.transport.redis  # noqa: F401

                import workers.enqueue  # noqa: F401
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self._error = exc

    def result(self) -> None:
        self._thread.join(max(0.0, self._deadline - time.monotonic()))
        if self._thread.is_alive():
            raise InvalidInput(f"the email templates took more than {RENDER_LIMIT:.0f} s to "
                               "render one message (a loop in a site template?); nothing "
                               "was recorded")
        if self._error is not None:
            raise self._error
