"""Issue 5's targets, judged on one run's summary: "met", "MISSED" or "n/a", with numbers."""

from __future__ import annotations

from typing import Any

CELERY = "Pressroom, Celery"
EMBEDDED = "Pressroom, embedded"


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    senders = summary.get("senders", [])
    other = summary.get("other", {})
    found: dict[str, str] = {}
    for row in senders:
        n = row["n"]
        if row["name"].startswith(CELERY):
            found[f"celery >= 0.40 x ceiling (N={n})"] = _at_least(
                row["ratio_to_ceiling"], 0.40) + _runs(row)
            found[f"celery >= 10 x naive (N={n})"] = _at_least(row["times_naive"], 10)
        elif row["name"].startswith(EMBEDDED):
            found[f"embedded >= 0.15 x ceiling (N={n})"] = _at_least(row["ratio_to_ceiling"],
                                                                     0.15)
    found["worker peak RSS 100k <= 1.2 x 10k"] = _memory(senders)
    rows = other.get("delivery_rows")
    if rows:
        found["1M delivery rows <= 15 s"] = (
            _at_most(rows["schedule_s"], 15) if rows["rows"] >= 1_000_000
            else f"n/a ({rows['rows']} rows: {rows['schedule_s']} s)")
    imported = other.get("import")
    if imported:
        found["100k contacts imported <= 5 s"] = (
            _at_most(imported["seconds"], 5) if imported["rows"] >= 100_000
            else f"n/a ({imported['rows']} rows: {imported['seconds']} s)")
    return found


def _memory(senders: list[dict[str, Any]]) -> str:
    peaks = {row["n"]: max(row["peak_rss_mb"]) for row in senders
             if row["name"].startswith(CELERY)}
    if 10_000 not in peaks or 100_000 not in peaks:
        return "n/a (needs N = 10,000 and 100,000)"
    ratio = peaks[100_000] / peaks[10_000]
    return f"{'met' if ratio <= 1.2 else 'MISSED'} ({ratio:.2f}: {peaks[100_000]} vs " \
           f"{peaks[10_000]} MB)"


def _at_least(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return f"{'met' if value >= target else 'MISSED'} ({value})"


def _runs(row: dict[str, Any]) -> str:
    """With several runs: each one's ratio, lowest first, and their median."""
    ratios = row.get("runs_ratio_to_ceiling")
    if not ratios or len(ratios) < 2:
        return ""
    return (f"; best of {len(ratios)} runs, each {', '.join(str(r) for r in ratios)}, "
            f"median {row['median_ratio_to_ceiling']}")


def _at_most(value: float, target: float) -> str:
    return f"{'met' if value <= target else 'MISSED'} ({value})"
