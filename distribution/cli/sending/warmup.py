"""What `send` needs after recording, loaded while the database writes the delivery rows.

Recording 100,000 recipients is one INSERT that keeps PostgreSQL busy for most of a second
while this process only waits; the rendering modules, the compiled email templates and
the broker's client took as long again after it. A thread loads them meanwhile (the
database driver lets go of the interpreter while it waits), so the first message leaves
that much sooner.
"""

from __future__ import annotations

import logging
import threading

from config import Settings

log = logging.getLogger(__name__)


class WarmUp:
    """Started just before the INSERT; joined right after it, before anything else runs,
    so that no two threads import at once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._thread = threading.Thread(target=self._load, name="warm-up", daemon=True)

    def __enter__(self) -> WarmUp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join()

    def _load(self) -> None:
        try:
            import distribution.engine.preflight  # noqa: F401 - rendering, the outbox check
            from distribution.engine.messages import load_templates_now

            load_templates_now(self._settings)
            if self._settings.broker_url:
                import workers.enqueue  # noqa: F401 - the Celery app, for the hand-over
        except Exception as exc:  # noqa: BLE001 - the checks after the INSERT say it properly
            log.debug("warming up for the send failed: %s", exc)
