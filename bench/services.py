"""The servers a benchmark run starts for itself, and the guarantee that it stops them.

Every process runs in its own process group, so stopping it also stops what it forked
(Celery's pool processes). `Processes` is a context manager: leaving it, normally, by an
exception or by Ctrl-C (SIGTERM is turned into the same exit), ends every group it started.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PG_ADMIN = os.environ.get("PRESSROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], *, timeout: float, what: str,
             interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Processes:
    """Processes started by the run; all of them are ended when the block is left."""

    workdir: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> Processes:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        # Also when started in the background by a shell, which makes SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.started):
            self.stop(process)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start a process with its output in WORKDIR/NAME.log."""
        with (self.workdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       cwd=cwd or self.workdir, start_new_session=True)
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 15) -> None:
        """SIGTERM to the group (Celery's warm shutdown), then SIGKILL whatever is left."""
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=timeout)
        _signal_group(process, signal.SIGKILL)  # pool processes left behind, if any
        if process in self.started:
            self.started.remove(process)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""


def _exit_on_sigterm(*_: object) -> None:
    raise SystemExit(143)  # unwinds through every `finally`, like Ctrl-C does


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class Sink:
    """Postfix's smtp-sink on a free loopback port; counts the messages it accepted."""

    _COUNT = re.compile(rb"mesg=(\d+)")

    def __init__(self, processes: Processes) -> None:
        self.port = free_port()
        self.output = processes.workdir / "smtp-sink.log"
        argv = [tool("smtp-sink"), "-c", "-u", getpass.getuser(), f"127.0.0.1:{self.port}",
                "1000"]
        # -c prints "sess=… quit=… mesg=N" whenever a message ends; PIPELINING is on.
        self.process = processes.start("smtp-sink", argv)
        wait_for(self._listening, timeout=10, what="smtp-sink")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=no"

    def count(self) -> int:
        """Messages accepted since the sink started."""
        try:
            with self.output.open("rb") as handle:
                handle.seek(max(0, self.output.stat().st_size - 200))
                tail = handle.read()
        except FileNotFoundError:
            return 0
        found = self._COUNT.findall(tail)
        return int(found[-1]) if found else 0

    def wait_count(self, target: int, *, stalled: Callable[[], bool] = lambda: False,
                   tick: Callable[[], object] = lambda: None, timeout: float = 3600,
                   patience: float = 20, seen: list[tuple[float, int]] | None = None) -> float:
        """Block until `target` messages were accepted; returns time.perf_counter() then.

        Calls `tick()` on every poll (to sample memory) and appends (perf_counter, count) to
        `seen` whenever the count moved. Gives up when the count has not moved for
        `patience` seconds while `stalled()` says the sender cannot make progress any more
        (it exited), or after `timeout`.
        """
        deadline = time.monotonic() + timeout
        last, moved = -1, time.monotonic()
        while (count := self.count()) < target:
            tick()
            now = time.monotonic()
            if count != last:
                last, moved = count, now
                if seen is not None:
                    seen.append((time.perf_counter(), count))
            elif now - moved > patience and stalled() or now > deadline:
                raise TimeoutError(f"smtp-sink counted {count} of {target} messages")
            time.sleep(0.005)
        return time.perf_counter()

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


class Redis:
    """A private redis-server without persistence."""

    def __init__(self, processes: Processes) -> None:
        self.port = free_port()
        argv = [tool("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(processes.workdir)]
        self.process = processes.start("redis", argv)
        wait_for(self._answers, timeout=10, what="redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                return False
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")


@contextlib.contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for the block; dropped afterwards whatever happens."""
    name = f"pressroom_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_ADMIN.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_pids(database_url: str) -> list[int]:
    """PostgreSQL server processes serving a database (for their CPU time)."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [row[0] for row in rows]


def server_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False,
                              timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def postgres_version() -> str:
    with psycopg.connect(PG_ADMIN) as admin:
        return str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError(f"{name} is missing: bench/run installs it (apt-get install postfix)")
    return found
