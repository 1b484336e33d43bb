"""`pressroom worker` and `pressroom beat`."""

from __future__ import annotations

import logging
import os
import signal

import click

from config import data_dir
from config.private import private_folder
from distribution.cli.app import App, pass_app, user_errors
from distribution.engine.runner import serve

# A batch spends about half its time waiting for the SMTP server's replies and the
# database's commits; a second process per CPU works meanwhile. Measured: bench/RESULTS.md.
PROCESSES_PER_CPU = 2
# One distribution runs at most this many batch chains at once (workers/tasks.py): more
# processes would only hold database and SMTP connections (two each) waiting for work.
MAX_DEFAULT_PROCESSES = 8


@click.command()
@click.option("--beat", is_flag=True, help="Also run the periodic sweep (one per site).")
@click.option("--concurrency", "-c", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: two per CPU, at most 8).")
@click.option("--loglevel", "-l", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
@pass_app
@user_errors
def worker(app: App, beat: bool, concurrency: int | None, loglevel: str) -> None:
    """Deliver distributions as they fall due (Celery with a broker, else in-process)."""
    settings = app.settings
    if not settings.broker_url:
        _embedded(app, loglevel)
        return
    _data_dir()
    from workers.celery import app as celery

    # Gossip and mingle (workers telling each other about themselves) serve nothing here,
    # and gossip logs a stack trace at every reconnection to the broker.
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency or _processes()}",
            "--without-gossip", "--without-mingle"]
    if beat:
        argv.append("--beat")
    celery.worker_main(argv)


def _data_dir() -> None:
    """Beat opens its schedule file there before any of our hooks could make the folder."""
    private_folder(data_dir())


def _processes() -> int:
    cpus = len(os.sched_getaffinity(0))  # the CPUs this process may use, not the host's
    return min(MAX_DEFAULT_PROCESSES, PROCESSES_PER_CPU * cpus)


@click.command()
@click.option("--loglevel", "-l", default="info", show_default=True)
@pass_app
@user_errors
def beat(app: App, loglevel: str) -> None:
    """Run the periodic sweep alone (Celery beat)."""
    if not app.settings.broker_url:
        raise click.ClickException("beat needs a broker (PRESSROOM_BROKER_URL); without one, "
                                   "`pressroom worker` sweeps by itself")
    _data_dir()
    from workers.celery import app as celery

    celery.Beat(loglevel=loglevel).run()


def _embedded(app: App, loglevel: str) -> None:
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    stop = {"now": False}

    def _ask_stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _ask_stop)
    signal.signal(signal.SIGINT, _ask_stop)
    click.echo(f"Pressroom worker (no broker): polling the database every "
               f"{app.settings.sweep_seconds}s. Ctrl-C to stop.", err=True)
    factory = app.Session
    serve(factory, app.settings, should_stop=lambda: stop["now"])
