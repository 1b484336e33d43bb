"""Celery workers: thin tasks that carry ids into `distribution`.

`celery -A workers worker` and `pressroom worker` both use the app built in
workers.celery from the project's settings.
"""

from workers.celery import app

__all__ = ["app"]
