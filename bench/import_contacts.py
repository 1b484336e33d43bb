"""Import N generated contacts and print the speed as JSON.

    python bench/import_contacts.py --n 100000 [--db URL] [--list NAME] [--domains K]

Without --db: a new SQLite file in a temporary folder. Any other database is created or
upgraded in place; each run uses new addresses, so it always measures new contacts. Timed:
the import (read, validate, write, subscribe) and its commit, not writing the CSV file.
Addresses are checked once per distinct domain, so --domains matters: a press list has many
addresses per outlet; --domains N (every address its own domain) is the worst case.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
import uuid
from pathlib import Path

from distribution.contacts import import_contacts
from distribution.db import make_engine, session_factory, transaction, upgrade
from distribution.errors import NotFound
from distribution.lists import create_list, get_list

LANGUAGES = ("en", "fr", "es", "ar", "pt-BR", "")
ZONES = ("Europe/Zurich", "America/New_York", "Asia/Beirut", "Africa/Nairobi", "")


def write_csv(path: Path, n: int, domains: int) -> None:
    run = uuid.uuid4().hex[:6]  # fresh addresses on every run
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "outlet", "beat", "language", "country", "timezone"])
        for i in range(n):
            outlet = i % domains
            writer.writerow([f"reporter.{i}.{run}@outlet{outlet}.example.com", f"Reporter {i}",
                             f"Outlet {outlet}", "Justice" if i % 3 else "",
                             LANGUAGES[i % len(LANGUAGES)], "CH", ZONES[i % len(ZONES)]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows to import")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--list", dest="list_name", help="also subscribe everyone to this list")
    parser.add_argument("--domains", type=int, default=2_000, help="distinct email domains")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        factory = session_factory(engine)
        if args.list_name:
            with transaction(factory) as session:
                try:
                    get_list(session, args.list_name)
                except NotFound:
                    create_list(session, args.list_name)
        path = Path(tmp) / "contacts.csv"
        write_csv(path, args.n, min(args.domains, args.n))
        started = time.perf_counter()
        with transaction(factory) as session:
            report = import_contacts(session, path, list_name=args.list_name)
        seconds = time.perf_counter() - started
        engine.dispose()
    print(json.dumps({
        "benchmark": "import_contacts", "database": engine.dialect.name, "rows": args.n,
        "domains": min(args.domains, args.n), "list": args.list_name,
        "seconds": round(seconds, 3), "rows_per_s": round(args.n / seconds),
        "imported": report.imported, "updated": report.updated,
        "subscribed": report.subscribed, "rejected": len(report.rejected),
    }))


if __name__ == "__main__":
    main()
