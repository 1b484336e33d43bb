"""The run's record: bench/out/summary.json, and one dated row per metric in RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
HEADER = """# Benchmark results

Appended by `bench/run` (see README.md): one row per metric and run. Ratios compare rows
measured in the same run, on the same machine and the same smtp-sink. Targets (issue 5):
Celery end to end >= 0.40 of the ceiling and >= 10x naive; embedded >= 0.15 of the ceiling;
worker peak RSS at 100k <= 1.2x that at 10k; 1M delivery rows <= 15 s; 100k contacts <= 5 s.

"""


def write_summary(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")


def append_results(summary: dict[str, Any]) -> None:
    if not RESULTS.exists():
        RESULTS.write_text(HEADER, "utf-8")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(_run_heading(summary))
        out.write("| date | metric | N | value | msgs/s | x ceiling | x naive | first msg "
                  "| steady msgs/s (x ceiling) | CPU s/1000 (sink) | peak RSS MB |\n"
                  "|---|---|---|---|---|---|---|---|---|---|---|\n")
        for line in _metric_rows(summary):
            out.write(line + "\n")
        out.write("\n")


def _run_heading(summary: dict[str, Any]) -> str:
    env = summary["environment"]
    machine = env["machine"]
    return (f"## {summary['started']} · {summary['mode']} · commit {env['commit']}\n\n"
            f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GB RAM "
            f"(load {machine['loadavg_at_start']:.2f} at start); Python {env['python']}, "
            f"PostgreSQL {env['postgresql']}, {env['redis']}; message {summary['message_bytes']}"
            f" bytes ({summary['release']}).\nCommand: `{summary['command']}`\n\n")


def _metric_rows(summary: dict[str, Any]) -> list[str]:
    date = summary["started"][:10]
    lines = []
    for row in summary["senders"]:
        lines.append(
            f"| {date} | {row['name']} | {row['n']} | {row['seconds']} s "
            f"| {row['messages_per_s']} | {_num(row['ratio_to_ceiling'])} "
            f"| {_num(row['times_naive'])} | {_num(row.get('first_message_s'))} s "
            f"| {_num(row.get('steady_per_s'))} ({_num(row.get('steady_ratio_to_ceiling'))}) "
            f"| {row['cpu_s_per_1000']} ({_num(row.get('sink_cpu_s_per_1000'))}) "
            f"| {', '.join(str(v) for v in row['peak_rss_mb'])} |")
    blank = " | ".join([""] * 7)
    for key, row in summary["other"].items():
        lines.append(f"| {date} | {row['name']} | {row.get('n') or row.get('rows')} "
                     f"| {_headline(key, row)} |{blank}|")
    for check, verdict in summary["targets"].items():
        lines.append(f"| {date} | target: {check} | | {verdict} |{blank}|")
    return lines


def _headline(key: str, row: dict[str, Any]) -> str:
    if key == "render":
        return (f"{row['personalise_us']} µs personalise, {row['build_us']} µs build "
                f"(prepare {row['prepare_ms']} ms)")
    if key == "delivery_rows":
        return f"{row['schedule_s']} s schedule (plan {row['plan_s']} s)"
    if key == "import":
        return f"{row['seconds']} s ({row['rows_per_s']} rows/s)"
    return json.dumps(row)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value}"
