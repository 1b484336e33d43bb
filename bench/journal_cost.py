"""What the batch journal costs a message on the sending path (issue 13).

    python -m bench.journal_cost [--messages 20000] [--group 100]

Per message: the Entry made in the transport's reply callback and written (one write() to
the file, or one HSET written to Redis's socket), plus the group's share of its sync (one
fdatasync, or reading the HSETs' replies) before the group's commit. A redis-server of its
own on a free port; the file in a temporary folder on the same disk as the data directory
would be.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from distribution.engine.recovery.journal import Entry, FileJournal, Writer
from distribution.engine.recovery.redisjournal import RedisJournal


def _per_message(writer: Writer, messages: int, group: int) -> float:
    started = time.perf_counter()
    for i in range(messages):
        writer.accepted(Entry(i, f"<{i}.1733550000.abcdef@press.example.org>", True,
                              time.time()))
        if i % group == group - 1:
            writer.sync()
    writer.close()
    return (time.perf_counter() - started) / messages * 1e6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--group", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.home()) as folder:
        file_us = _per_message(FileJournal(folder).writer("bench/1", args.messages),
                               args.messages, args.group)
    port = _free_port()
    server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port",
                               str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        redis_us = _per_message(RedisJournal(client).writer("bench/1"), args.messages,
                                args.group)
    finally:
        server.terminate()
        server.wait()
    print(f"journal cost per message ({args.messages} messages, sync every {args.group}): "
          f"file {file_us:.1f} µs, redis {redis_us:.1f} µs")


if __name__ == "__main__":
    main()
