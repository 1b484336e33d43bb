"""`bench/run`: every measurement of issue 5 in one run, on one machine and one sink.

    bench/run --quick          N = 2,000; 20,000 contacts; 100,000 delivery rows (< 1 min)
    bench/run                  N = 10,000 and 100,000; 100,000 contacts; 1,000,000 rows

Writes bench/out/summary.json and appends the run to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import delivery_rows, fixture, pressroom_e2e, references, render_alone, report
from bench.procstat import machine
from bench.services import (
    Processes,
    Redis,
    Sink,
    postgres_database,
    postgres_version,
    server_version,
)
from bench.targets import verdicts
from bench.timing import Row

BENCH = Path(__file__).resolve().parent
PARTS = ("references", "naive", "celery", "embedded", "render", "import", "rows")
MODES = {
    "quick": {"sizes": [2_000], "contacts": 20_000, "rows": 100_000, "render": 10_000},
    "full": {"sizes": [10_000, 100_000], "contacts": 100_000, "rows": 1_000_000,
             "render": 10_000},
}


def main() -> None:
    args = _arguments()
    mode = dict(MODES["quick" if args.quick else "full"])
    if args.sizes:
        mode["sizes"] = args.sizes
    workdir = Path(tempfile.mkdtemp(prefix="pressroom-bench-"))
    summary: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "command": " ".join(["bench/run", *sys.argv[1:]]),
        "release": args.release.name, "environment": _environment(),
    }
    try:
        with Processes(workdir) as processes:
            _measure(processes, mode, set(args.only or PARTS), args, summary)
    except KeyboardInterrupt:
        _say("interrupted: every process and database this run started is gone")
        sys.exit(130)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    summary["targets"] = verdicts(summary)
    report.write_summary(summary, BENCH / "out" / "summary.json")
    if not args.no_record:
        report.append_results(summary)
    print(json.dumps(summary["targets"], indent=2))


def _measure(processes: Processes, mode: dict[str, Any], parts: set[str],
             args: argparse.Namespace, summary: dict[str, Any]) -> None:
    sink, redis = Sink(processes), Redis(processes)
    env0 = fixture.environment(processes.workdir, "sqlite://", sink.url)
    refs = fixture.write_references(fixture.settings_for(env0), args.release, processes.workdir)
    summary["message_bytes"] = refs.size
    rows: list[Row] = []
    with postgres_database("e2e") as pg_url:
        engine, factory = fixture.open_store(pg_url)
        release_id = fixture.add_release(factory, args.release)
        env = fixture.environment(processes.workdir, pg_url, sink.url, redis.url)
        for n in mode["sizes"]:
            _say(f"N = {n}")
            runs = args.runs if "celery" in parts else 0
            celery_run = (_celery_runs(processes, sink, env, factory, release_id, args.release,
                                       n) if runs else None)
            ceiling, celery = _alternating(
                functools.partial(references.ceiling_run, processes, sink, refs, n),
                celery_run, runs)
            rows += _references(processes, sink, refs, n, parts, ceiling)
            if celery is not None:
                rows.append(celery)
                _show(rows[-1])
            if "embedded" in parts:
                rows.append(pressroom_e2e.embedded(processes, sink, processes.workdir,
                                                   args.release, n))
                _show(rows[-1])
        engine.dispose()
    summary["senders"] = _with_ratios(rows)
    summary["other"] = _others(processes.workdir, mode, parts, args)


def _alternating(ceiling_run: Callable[[int], Row], celery_run: Callable[[int], Row] | None,
                 runs: int) -> tuple[Row, Row | None]:
    """The ceiling's runs and Celery's taken in turn, so that a host that slows down or
    speeds up within the minutes of a run weighs on both alike; the best of each."""
    ceilings: list[Row] = []
    celery: list[Row] = []
    for i in range(max(references.CEILING_RUNS, runs)):
        if i < references.CEILING_RUNS:
            ceilings.append(ceiling_run(i))
        if celery_run is not None and i < runs:
            celery.append(celery_run(i))
            _say(f"  Celery run {i + 1} of {runs}: {celery[-1].per_second:.0f}/s")
    ceiling = references.best_ceiling(ceilings)
    return ceiling, (pressroom_e2e.best_of(celery, ceiling) if celery else None)


def _celery_runs(processes: Processes, sink: Sink, env: dict[str, str], factory: Any,
                 release_id: int, release_file: Path, n: int) -> Callable[[int], Row]:
    """Each run sends its own release (the first the one given) to one list of N."""
    list_name = pressroom_e2e.prepare_list(factory, processes.workdir, n)

    def run(i: int) -> Row:
        release = release_id if i == 0 else fixture.add_release(factory, release_file)
        return pressroom_e2e.celery(processes, sink, env, factory, release, list_name, n,
                                    pressroom_e2e.sent_count(factory), run=i)
    return run


def _references(processes: Processes, sink: Sink, refs: fixture.References, n: int,
                parts: set[str], ceiling: Row) -> list[Row]:
    """The ceiling always (every ratio needs it); the floor and the bare loops if asked."""
    rows = [ceiling]
    if "naive" in parts:
        rows.append(references.naive(processes, sink, refs, n))
    if "references" in parts:
        rows += [references.bare_loop(processes, sink, refs, n, workers)
                 for workers in (1, pressroom_e2e.CONCURRENCY)]
    for row in rows:
        _show(row)
    return rows


def _others(workdir: Path, mode: dict[str, Any], parts: set[str],
            args: argparse.Namespace) -> dict[str, Any]:
    others: dict[str, Any] = {}
    if "render" in parts:
        _say("render alone")
        others["render"] = render_alone.measure(args.release, mode["render"], workdir)
    if "import" in parts:
        _say(f"import {mode['contacts']} contacts")
        with postgres_database("import") as url:
            others["import"] = _import(url, mode["contacts"])
    if "rows" in parts:
        _say(f"{mode['rows']} delivery rows")
        with postgres_database("rows") as url:
            others["delivery_rows"] = delivery_rows.measure(url, args.release, mode["rows"])
    return others


def _import(database_url: str, n: int) -> dict[str, Any]:
    """bench/import_contacts.py (the contacts module's own benchmark) on PostgreSQL."""
    done = subprocess.run([sys.executable, "-m", "bench.import_contacts", "--n", str(n),
                           "--db", database_url, "--list", "everyone"],
                          cwd=BENCH.parent, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["name"] = "import contacts from CSV (PostgreSQL)"
    result["n"] = n
    return result


def _with_ratios(rows: list[Row]) -> list[dict[str, Any]]:
    shown = []
    for row in rows:
        same = [r for r in rows if r.n == row.n]
        ceiling = next(r for r in same if r.name.startswith("ceiling"))
        floor = next((r for r in same if r.name.startswith("floor")), None)
        shown.append(row.as_dict(ceiling, floor))
    return shown


def _environment() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH,
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCH,
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"machine": machine(), "python": platform.python_version(),
            "postgresql": postgres_version(),
            "redis": server_version(["redis-server", "--version"]).split(" sha=")[0],
            "commit": commit + ("+uncommitted changes" if dirty else "")}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 2,000: under a minute")
    parser.add_argument("--n", dest="sizes", type=int, action="append",
                        help="recipients per send (repeatable); overrides the mode's sizes")
    parser.add_argument("--release", type=Path, default=fixture.DEFAULT_RELEASE,
                        help="release file to send (default: a 6-7 KB sample)")
    parser.add_argument("--no-record", action="store_true",
                        help="write bench/out/summary.json only, not RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    parser.add_argument("--runs", type=int, default=1,
                        help="Celery runs per N, taken in turn with the ceiling's; the best "
                             "is the row, every run's rate and ratio are kept")
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="measure only these parts (repeatable; default: all)")
    return parser.parse_args()


def _show(row: Row) -> None:
    extra = row.extra
    _say(f"  {row.name}: {row.per_second:.0f}/s"
         + (f" (first message after {extra['first_message_s']} s, then {extra['steady_per_s']}/s)"
            if "first_message_s" in extra else ""))


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
