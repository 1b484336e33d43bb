"""Pressroom end to end: from `pressroom send` to the sink's N-th message.

Production shape: PostgreSQL, a private Redis, one `pressroom worker --concurrency 2`
(two pool processes) and `pressroom beat`, all started before the clock starts, so what is
timed is what an operator waits for once they press return. Embedded default: SQLite, no
broker; `pressroom send` delivers in its own process.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from sqlalchemy import func, select

from bench import fixture
from bench.procstat import children, cpu_seconds, peak_rss_mb
from bench.services import Processes, Sink, backend_pids, wait_for
from bench.timing import PeakMemory, Row, pace, reap, timed_process
from distribution.store.models import Delivery, DeliveryStatus

# `pressroom worker`'s default on these 2-core machines (two processes per CPU).
CONCURRENCY = 4


def prepare_list(factory, workdir: Path, n: int) -> str:  # type: ignore[no-untyped-def]
    name = f"bench-{n}"
    fixture.add_audience(factory, workdir, name, n)
    return name


def sent_count(factory) -> int:  # type: ignore[no-untyped-def]
    """Deliveries recorded as sent, over every distribution of the database."""
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.SENT.value)) or 0


def celery(processes: Processes, sink: Sink, env: dict[str, str], factory,  # type: ignore[no-untyped-def]
           release_id: int, list_name: str, n: int, sent_before: int, run: int = 0) -> Row:
    """One distribution of N through fresh Celery workers; their peak RSS is this run's."""
    n_run = f"{n}" if run == 0 else f"{n}-{run}"  # names the run's folder and processes
    workdir = processes.workdir / f"celery-{n_run}"
    workdir.mkdir()
    worker = processes.start(f"worker-{n_run}", fixture.pressroom_argv(
        "worker", "--concurrency", str(CONCURRENCY), "--loglevel", "info"), env, cwd=workdir)
    wait_for(lambda: "ready." in processes.log(f"worker-{n_run}"), timeout=60,
             what="the Celery worker")
    beat = processes.start(f"beat-{n_run}", fixture.pressroom_argv("beat", "--loglevel", "warning"),
                           env, cwd=workdir)
    wait_for(lambda: len(children(worker.pid)) >= CONCURRENCY, timeout=30, what="pool")
    pool = children(worker.pid)
    watched = [worker.pid, *pool]
    cpu_before = {pid: cpu_seconds(pid) for pid in watched}
    db_before = {pid: cpu_seconds(pid) for pid in backend_pids(env["PRESSROOM_DATABASE_URL"])}
    base, sink_cpu = sink.count(), cpu_seconds(sink.process.pid)
    seen: list[tuple[float, int]] = []
    peak = PeakMemory(pool)
    started = time.perf_counter()
    send = processes.start(f"send-{n_run}", fixture.pressroom_argv(
        "send", str(release_id), "--list", list_name, "--yes"), env, cwd=workdir)
    finished = sink.wait_count(base + n, tick=peak.sample, patience=60, seen=seen,
                               stalled=lambda: worker.poll() is not None)
    peak.sample_now()
    cpu = sum(cpu_seconds(pid) - cpu_before[pid] for pid in watched)
    db_cpu = sum(cpu_seconds(pid) - db_before.get(pid, 0.0)
                 for pid in backend_pids(env["PRESSROOM_DATABASE_URL"]))
    sink_cpu = cpu_seconds(sink.process.pid) - sink_cpu
    rss = [peak_rss_mb(pid) or 0.0 for pid in pool]  # VmHWM, read before they exit
    main_rss = peak_rss_mb(worker.pid)
    send_cpu = reap(processes, send, f"send-{n_run}")
    wait_for(lambda: sent_count(factory) >= sent_before + n, timeout=120,
             what="every delivery recorded as sent")
    confirmed = time.perf_counter()
    processes.stop(beat)
    processes.stop(worker)
    row = Row(f"Pressroom, Celery/Redis/PostgreSQL (1 worker x {CONCURRENCY} processes)", n,
              finished - started, cpu, rss)
    row.extra.update(pace(seen, started, finished, base, n))
    row.extra.update(sink_cpu_s_per_1000=round(sink_cpu * 1000 / n, 3),
                     send_command_cpu_s=round(send_cpu, 3),
                     recorded_s=round(confirmed - started, 3),
                     postgres_cpu_s_per_1000=round(db_cpu * 1000 / n, 3),
                     worker_main_rss_mb=main_rss)
    return row


def best_of(runs: list[Row], ceiling: Row) -> Row:
    """The fastest run, as the ceiling is its fastest; every run's rate and ratio kept."""
    best = min(runs, key=lambda run: run.seconds)
    best.extra["runs_per_s"] = [round(run.per_second, 1) for run in runs]
    ratios = sorted(run.per_second / ceiling.per_second for run in runs)
    best.extra["runs_ratio_to_ceiling"] = [round(r, 3) for r in ratios]
    best.extra["median_ratio_to_ceiling"] = round(statistics.median(ratios), 3)
    return best


def embedded(processes: Processes, sink: Sink, workdir: Path, release_file: Path,
             n: int) -> Row:
    """The embedded default: SQLite, no broker, `pressroom send` delivers in-process."""
    url = f"sqlite:///{workdir / f'embedded-{n}.db'}"
    engine, factory = fixture.open_store(url)
    release_id = fixture.add_release(factory, release_file)
    list_name = prepare_list(factory, workdir, n)
    env = fixture.environment(workdir, url, sink.url)
    row = timed_process(processes, sink, f"embedded-{n}", fixture.pressroom_argv(
        "send", str(release_id), "--list", list_name, "--yes"), n, env=env)
    row.name = "Pressroom, embedded default (SQLite, no broker, 1 process)"
    if (sent := sent_count(factory)) != n:
        raise RuntimeError(f"embedded: {sent} of {n} deliveries recorded as sent")
    engine.dispose()
    return row
