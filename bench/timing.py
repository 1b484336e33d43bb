"""One measured sender run: wall time until the sink counted every message, CPU, memory."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from bench.procstat import cpu_seconds, peak_rss_mb
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

    def as_dict(self, ceiling: Row, floor: Row | None) -> dict[str, Any]:
        steady, ceiling_steady = self.extra.get("steady_per_s"), ceiling.extra.get("steady_per_s")
        shown = {
            "name": self.name, "n": self.n, "seconds": round(self.seconds, 3),
            "messages_per_s": round(self.per_second, 1),
            "ratio_to_ceiling": round(self.per_second / ceiling.per_second, 3),
            "times_naive": round(self.per_second / floor.per_second, 2) if floor else None,
            # Once running (10 % to 90 % of the messages), against the ceiling's own pace.
            "steady_ratio_to_ceiling": (round(steady / ceiling_steady, 3)
                                        if steady and ceiling_steady else None),
            "cpu_s_per_1000": round(self.cpu_per_1000, 3),
            "peak_rss_mb": self.peak_rss_mb,
        }
        return shown | self.extra


def pace(seen: list[tuple[float, int]], started: float, finished: float,
         base: int, n: int) -> dict[str, float]:
    """When the first message arrived, and the rate between 10 % and 90 % of the messages:
    the start-up an operator waits for, and the speed once running, apart."""
    if not seen:
        return {}
    first = next((t for t, count in seen if count > base), finished)
    low = next((t for t, count in seen if count - base >= n // 10), started)
    high = next((t for t, count in seen if count - base >= n * 9 // 10), finished)
    steady = (n * 8 // 10) / (high - low) if high > low else 0.0
    return {"first_message_s": round(first - started, 3), "steady_per_s": round(steady, 1)}


def timed_process(processes: Processes, sink: Sink, name: str, argv: list[str], n: int,
                  env: dict[str, str] | None = None) -> Row:
    """Run a sender to completion; timed from its start to the sink's N-th message.

    CPU time comes from wait4() (the process and the children it reaped); peak RSS from
    sampling VmHWM while it runs (wait4's ru_maxrss keeps the forking parent's size).
    """
    base = sink.count()
    seen: list[tuple[float, int]] = []
    started = time.perf_counter()
    sink_cpu = cpu_seconds(sink.process.pid)
    process = processes.start(name, argv, env=env)
    peak = PeakMemory([process.pid])
    try:
        finished = sink.wait_count(base + n, stalled=lambda: _exited(process.pid),
                                   tick=peak.sample, patience=3, seen=seen)
    except TimeoutError as exc:
        raise RuntimeError(f"{name}: {exc}\n{processes.log(name)[-2000:]}") from None
    row = Row(name, n, finished - started, reap(processes, process, name), peak.values())
    row.extra.update(pace(seen, started, finished, base, n))
    sink_cpu = cpu_seconds(sink.process.pid) - sink_cpu
    row.extra["sink_cpu_s_per_1000"] = round(sink_cpu * 1000 / n, 3)
    return row


def reap(processes: Processes, process: subprocess.Popen[bytes], name: str) -> float:
    """Wait for a process that must succeed; its CPU seconds (and its reaped children's)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    processes.started.remove(process)
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited with {process.returncode}:\n{processes.log(name)}")
    return usage.ru_utime + usage.ru_stime


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
