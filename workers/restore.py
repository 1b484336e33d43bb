"""A worker that loses Redis must not die handing its unacknowledged tasks back, nor log a
traceback for a task it could not acknowledge.

kombu 5.7's Redis transport builds a client from the channel's connection, which is
already None once the broker is lost: restoring the tasks a worker holds (running ones,
and those waiting out a countdown), or acknowledging one, raised AttributeError, which
Celery treats as an unrecoverable error, and the worker exited mid-send. Here those are
a warning: the tasks stay in Redis's unacked index, which Redis hands out again after the
visibility timeout, and they only carry a distribution's id: the sweep restarts its
batches as soon as the broker is back.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)

_restore_unacked = kombu_redis.QoS.restore_unacked
_connparams = kombu_redis.Channel._connparams  # type: ignore[attr-defined]


def _gone(channel: Any) -> bool:
    connection = getattr(channel, "connection", None)
    return connection is None or getattr(connection, "client", None) is None


def _connparams_unless_gone(self: Any, asynchronous: bool = False) -> Any:
    """The same AttributeError struck acknowledging a task as Redis went (a client built
    from the closed connection): it is a connection error, which Celery rides out."""
    if _gone(self):
        raise redis.ConnectionError("the broker connection is closed")
    return _connparams(self, asynchronous)


def _restore_unless_gone(self: Any, client: Any = None) -> None:
    try:
        _restore_unacked(self, client)
    except (AttributeError, redis.ConnectionError) as exc:
        if not _gone(self.channel):
            raise  # not the lost connection: a real fault
        log.warning("the broker connection is gone: the tasks this worker held stay with "
                    "Redis, and the sweep restarts their sends once it is back (%s)", exc)


class AckLost(logging.Filter):
    """Celery logs a task it could not acknowledge, the broker gone at that instant, as
    CRITICAL with a traceback. Nothing is lost (the task stays in Redis's unacked index,
    which hands it out again; running a batch twice sends nobody twice): one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Couldn't ack") and record.exc_info:
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = (f"{record.msg} (the broker connection is gone: Redis hands the task "
                          "out again, and the sweep restarts its send)")
        return True


def install() -> None:
    kombu_redis.QoS.restore_unacked = _restore_unless_gone  # type: ignore[method-assign]
    kombu_redis.Channel._connparams = _connparams_unless_gone  # type: ignore[attr-defined]
    logging.getLogger("celery.worker.request").addFilter(AckLost())
