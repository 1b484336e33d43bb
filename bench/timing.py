"""One measured sender run: wall time until the sink counted every message, CPU, memory."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

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
                  env: dict[str, str] | None = None, timeout: float = 900) -> Row:
    """Run a sender to completion; timed from its start to the sink's N-th message.

    CPU time and peak RSS come from wait4(): the process and the children it reaped.
    """
    target = sink.count() + n
    started = time.perf_counter()
    process = processes.start(name, argv, env=env)
    finished = sink.wait_count(target, timeout=timeout)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    processes.started.remove(process)
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited with {process.returncode}:\n{processes.log(name)}")
    return Row(name, n, finished - started, usage.ru_utime + usage.ru_stime,
               [round(usage.ru_maxrss / 1024, 1)])
