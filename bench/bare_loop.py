"""The bare loop: no database, no queue, no signing; what plain Python can do at best.

Pressroom's rendered message is read once; per recipient three placeholders (the To
address, the Message-ID, the unsubscribe token) are replaced, and smtplib sends it over one
reused connection. With --processes K, K processes share the recipients, a connection each.

    python bench/bare_loop.py --port 2525 -n 10000 --template message.eml [--processes 2]

The template holds @@TO@@, @@MID@@ and @@TOKEN@@. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import time
from multiprocessing import Pool
from pathlib import Path


def send_range(host: str, port: int, template: bytes, start: int, stop: int) -> int:
    with smtplib.SMTP(host, port) as smtp:
        for i in range(start, stop):
            to = f"reporter{i}@outlet{i % 2000}.example.com"
            data = (template.replace(b"@@TO@@", to.encode())
                    .replace(b"@@MID@@", f"<bench.{i}@iiim.example.org>".encode())
                    .replace(b"@@TOKEN@@", f"{i:08d}".encode()))
            smtp.sendmail("press@iiim.example.org", [to], data)
    return stop - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    template = args.template.read_bytes()
    bounds = [args.n * k // args.processes for k in range(args.processes + 1)]
    jobs = [(args.host, args.port, template, a, b)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    started = time.perf_counter()
    if args.processes == 1:
        sent = send_range(*jobs[0])
    else:
        with Pool(args.processes) as pool:
            sent = sum(pool.starmap(send_range, jobs))
    seconds = time.perf_counter() - started
    print(json.dumps({"sent": sent, "seconds": seconds, "processes": args.processes}))


if __name__ == "__main__":
    main()
