"""Beat's scheduler, saying a sweep it could not send in one line.

Celery's own logs each failure with a stack trace at every tick while the broker is away;
the sweep is only a nudge (the next tick sends it again), so an operator needs the fact
once, and again when it is mended.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

log = logging.getLogger(__name__)


class OneLineScheduler(PersistentScheduler):
    _failing = False

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        log.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)  # as Celery
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the next tick tries again
            if not self._failing:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning("could not send the %s task (%s); trying at every tick",
                            entry.name, reason)
            self._failing = True
        else:
            if self._failing:
                log.warning("sending the %s task again", entry.name)
            self._failing = False
