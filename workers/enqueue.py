"""Handing a recorded distribution to the workers: by task name, so that the command that
does it (`pressroom send`, `resume`, `retry`) need not import the worker's code."""

from __future__ import annotations

from workers.celery import app

START_TASK = "pressroom.start"


def enqueue_start(distribution_id: int) -> str | None:
    """Queue the start task; the error text if the broker is down.

    Failing here loses nothing: the distribution is in the database and the sweep
    dispatches it once the broker is back.
    """
    try:
        app.send_task(START_TASK, (distribution_id,), retry=True,
                      retry_policy={"max_retries": 1, "interval_start": 0,
                                    "interval_step": 0.5, "interval_max": 1})
    except Exception as exc:  # noqa: BLE001 - kombu raises many kinds; all mean "not queued"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None
