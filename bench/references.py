"""The references every Pressroom row is compared with, measured on the same sink.

ceiling: smtp-source (C), 8 sessions, connection reuse, Pressroom's rendered message, the
best of three runs;
floor: the naive Python sender; bare loop: plain Python at its best, in 1 process and in
as many as the Celery worker has.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.fixture import References
from bench.services import Processes, Sink, tool
from bench.timing import Row, timed_process

BENCH = Path(__file__).resolve().parent
SESSIONS = 8
CEILING_RUNS = 3


def ceiling(processes: Processes, sink: Sink, refs: References, n: int) -> Row:
    """The fastest of RUNS: one run of a second or two swings by a third on a shared host,
    and every ratio divides by this one; the best keeps the ratios from flattering."""
    return best_ceiling([ceiling_run(processes, sink, refs, n, i) for i in range(CEILING_RUNS)])


def ceiling_run(processes: Processes, sink: Sink, refs: References, n: int, i: int) -> Row:
    """One run of smtp-source: the caller may put other runs between them."""
    argv = _ceiling_argv(sink, refs, n)
    row = timed_process(processes, sink, f"smtp-source-{n}-{i}", argv, n)
    row.extra["command"] = " ".join(argv[:-1] + ["127.0.0.1:PORT"])
    return row


def best_ceiling(runs: list[Row]) -> Row:
    row = min(runs, key=lambda run: run.seconds)
    row.name = "ceiling: smtp-source (C, 8 sessions)"
    row.extra["runs_per_s"] = [round(run.per_second, 1) for run in runs]
    return row


def _ceiling_argv(sink: Sink, refs: References, n: int) -> list[str]:
    # -d keeps each session's connection for its next message; -F sends our message.
    return [tool("smtp-source"), "-d", "-m", str(n), "-s", str(SESSIONS), "-F", str(refs.eml),
            "-f", "press@iiim.example.org", "-t", "reporter@outlet.example.com",
            f"127.0.0.1:{sink.port}"]


def naive(processes: Processes, sink: Sink, refs: References, n: int) -> Row:
    argv = [sys.executable, str(BENCH / "naive_sender.py"), "--port", str(sink.port),
            "-n", str(n), "--content", str(refs.content)]
    row = timed_process(processes, sink, f"naive-{n}", argv, n)
    row.name = "floor: naive Python sender (EmailMessage + smtplib)"
    return row


def bare_loop(processes: Processes, sink: Sink, refs: References, n: int,
              workers: int = 1) -> Row:
    argv = [sys.executable, str(BENCH / "bare_loop.py"), "--port", str(sink.port),
            "-n", str(n), "--template", str(refs.template), "--processes", str(workers)]
    row = timed_process(processes, sink, f"bare-{workers}-{n}", argv, n)
    row.name = f"bare loop ({workers} process{'es' if workers > 1 else ''}, smtplib)"
    return row
