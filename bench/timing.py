"""One measured sender run: wall time until the sink counted every message, CPU, memory."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from bench.procstat import peak_rss_mb
from bench.services import Processes, Sink


@dataclass
class Row:
    """One line of the results: a sender, a size, and what it cost."""

    name: str
    n: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.n / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_seconds * 1000 / self.n

    def as_dict(self, ceiling: float | None, floor: float | None) -> dict[str, Any]:
        shown = {
            "name": self.name, "n": self.n, "seconds": round(self.seconds, 3),
            "messages_per_s": round(self.per_second, 1),
            "ratio_to_ceiling": round(self.per_second / ceiling, 3) if ceiling else None,
            "times_naive": round(self.per_second / floor, 2) if floor else None,
            "cpu_s_per_1000": round(self.cpu_per_1000, 3),
            "peak_rss_mb": self.peak_rss_mb,
        }
        return shown | self.extra


def timed_process(processes: Processes, sink: Sink, name: str, argv: list[str], n: int,
                  env: dict[str, str] | None = None) -> Row:
    """Run a sender to completion; timed from its start to the sink's N-th message.

    CPU time comes from wait4() (the process and the children it reaped); peak RSS from
    sampling VmHWM while it runs (wait4's ru_maxrss keeps the forking parent's size).
    """
    target = sink.count() + n
    started = time.perf_counter()
    process = processes.start(name, argv, env=env)
    peak = PeakMemory([process.pid])
    try:
        finished = sink.wait_count(target, stalled=lambda: _exited(process.pid),
                                   tick=peak.sample, patience=3)
    except TimeoutError as exc:
        raise RuntimeError(f"{name}: {exc}\n{processes.log(name)[-2000:]}") from None
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    processes.started.remove(process)
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited with {process.returncode}:\n{processes.log(name)}")
    return Row(name, n, finished - started, usage.ru_utime + usage.ru_stime, peak.values())


class PeakMemory:
    """The last VmHWM seen of each process: it only grows, so the last read is the peak."""

    def __init__(self, pids: list[int]) -> None:
        self.peaks = dict.fromkeys(pids, 0.0)
        self._next = 0.0

    def sample(self) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + 0.05
            self.sample_now()

    def sample_now(self) -> None:
        for pid in self.peaks:
            self.peaks[pid] = max(self.peaks[pid], peak_rss_mb(pid) or 0.0)

    def values(self) -> list[float]:
        return list(self.peaks.values())


def _exited(pid: int) -> bool:
    """Has the child exited? Without reaping it: wait4() still collects its rusage."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
