"""The Celery app, built from Pressroom's settings."""

from __future__ import annotations

from celery import Celery

from config import load_settings

# Redis redelivers an unacknowledged task after this long; nothing waits in the broker,
# so no task legitimately runs this long (see MAX_COUNTDOWN in workers.tasks).
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
        worker_hijack_root_logger=False,
    )
    return celery


app = make_app()
