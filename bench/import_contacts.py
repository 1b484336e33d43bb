"""Import N generated contacts and print the speed as JSON.

    python -m bench.import_contacts --n 100000 [--db URL] [--list NAME] [--domains K]
                                    [--repeat R]

Without --db: a new SQLite file in a temporary folder. Any other database is created or
upgraded in place; every run uses new addresses, so it always measures new contacts. Timed:
the import (read, validate, write, subscribe) and its commit, not writing the CSV file.
`seconds` is the best of the repeats; `cpu_seconds` is this process's CPU time for that run
and `server_cpu_seconds` the PostgreSQL backend's, steadier than wall time on a busy machine.
Addresses are checked once per distinct domain, so --domains matters: a press list has many
addresses per outlet; --domains N (every address its own domain) is the worst case.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, text

from bench.procstat import cpu_seconds
from distribution.audience.contacts import ImportReport, import_contacts
from distribution.audience.lists import create_list, get_list
from distribution.errors import NotFound
from distribution.store.db import make_engine, session_factory, transaction, upgrade

LANGUAGES = ("en", "fr", "es", "ar", "pt-BR", "")
ZONES = ("Europe/Zurich", "America/New_York", "Asia/Beirut", "Africa/Nairobi", "")


def write_csv(path: Path, n: int, domains: int) -> None:
    run = uuid.uuid4().hex[:6]  # new addresses on every run
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "outlet", "beat", "language", "country", "timezone"])
        for i in range(n):
            outlet = i % domains
            writer.writerow([f"reporter.{i}.{run}@outlet{outlet}.example.com", f"Reporter {i}",
                             f"Outlet {outlet}", "Justice" if i % 3 else "",
                             LANGUAGES[i % len(LANGUAGES)], "CH", ZONES[i % len(ZONES)]])


def measure(engine: Engine, path: Path, list_name: str | None) -> dict[str, object]:
    """One import in one transaction: wall time, client CPU, PostgreSQL backend CPU."""
    with transaction(session_factory(engine)) as session:
        backend = (session.scalar(text("SELECT pg_backend_pid()"))
                   if engine.dialect.name == "postgresql" else None)
        server_before = cpu_seconds(backend) if backend else 0.0
        started, cpu_before = time.perf_counter(), time.process_time()
        report: ImportReport = import_contacts(session, path, list_name=list_name)
        server = cpu_seconds(backend) - server_before if backend else None
    return {"seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_before,
            "server_cpu_seconds": server, "report": report}


def ensure_list(engine: Engine, name: str) -> None:
    with transaction(session_factory(engine)) as session:
        try:
            get_list(session, name)
        except NotFound:
            create_list(session, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows to import")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--list", dest="list_name", help="also subscribe everyone to this list")
    parser.add_argument("--domains", type=int, default=2_000, help="distinct email domains")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best is reported")
    args = parser.parse_args()
    domains = max(1, min(args.domains, args.n))
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        if args.list_name:
            ensure_list(engine, args.list_name)
        runs = []
        for attempt in range(args.repeat):
            path = Path(tmp) / f"contacts-{attempt}.csv"
            write_csv(path, args.n, domains)
            runs.append(measure(engine, path, args.list_name))
        engine.dispose()
    best = min(runs, key=lambda run: run["seconds"])
    report = best["report"]
    assert isinstance(report, ImportReport)
    print(json.dumps({
        "benchmark": "import_contacts", "database": engine.dialect.name, "rows": args.n,
        "domains": domains, "list": args.list_name,
        "seconds": round(best["seconds"], 3), "rows_per_s": round(args.n / best["seconds"]),
        "cpu_seconds": round(best["cpu_seconds"], 3),
        "server_cpu_seconds": (None if best["server_cpu_seconds"] is None
                               else round(best["server_cpu_seconds"], 3)),
        "all_seconds": [round(run["seconds"], 3) for run in runs],
        "loadavg_at_start": load,
        "imported": report.imported, "updated": report.updated,
        "subscribed": report.subscribed, "rejected": len(report.rejected),
    }))


if __name__ == "__main__":
    main()
