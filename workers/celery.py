"""The Celery app, built from Pressroom's settings."""

from __future__ import annotations

import warnings
from typing import Any

from celery import Celery
from celery.exceptions import CPendingDeprecationWarning
from celery.signals import celeryd_after_setup

from config import data_dir, load_settings
from workers import restore

# Redis redelivers an unacknowledged task after this long; nothing waits in the broker
# (scheduled sends are found by the sweep), so no task legitimately runs this long.
VISIBILITY_TIMEOUT = 3600


def make_app() -> Celery:
    settings = load_settings()
    celery = Celery("pressroom", broker=settings.broker_url or "redis://127.0.0.1:6379/0",
                    include=["workers.tasks"])
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A task whose worker dies is run again; claims make that harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT,
                                  "socket_connect_timeout": 5, "socket_timeout": 30},
        beat_schedule={
            "sweep": {"task": "pressroom.sweep", "schedule": float(settings.sweep_seconds)},
        },
        # Beat's record of when each task last ran: in the data directory, not in whatever
        # folder beat was started from (`--schedule` still overrides it).
        beat_schedule_filename=str(data_dir() / "celerybeat-schedule"),
        beat_scheduler="workers.beat:OneLineScheduler",
        worker_hijack_root_logger=False,
        # A batch at work when the broker goes away goes on: its rows and results are in
        # the database, and the broker carried only its distribution's id.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return celery


@celeryd_after_setup.connect
def _quiet_about_cancelling(**_: Any) -> None:
    """Celery warns at every loss of the broker, in a paragraph, that the setting above will
    default the other way one day; chosen here, it says nothing an operator needs. Set
    after Celery's own logging set-up, which shows every such warning."""
    warnings.filterwarnings("ignore", category=CPendingDeprecationWarning,
                            message=r"\s*In Celery 5\.1 we introduced an optional breaking")


restore.install()
app = make_app()
