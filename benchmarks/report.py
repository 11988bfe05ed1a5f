"""The report of benchmarks/run.py: the table of every case against its floor
and dlt, and every target marked met or not; written into a markdown file
after its marker when asked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from measuring import Sample, machine

if TYPE_CHECKING:
    from run import Bench


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


Target = tuple[str, str, bool | None]  # what, the measured value, met (None: shown only)

CASES = [  # (label, ours, floor, dlt)
    ("first sync", "ours_first", "floor_first", "dlt_first"),
    ("day-2 resync", "ours_resync", "floor_resync", "dlt_second"),
    ("no-op resync", "ours_noop", "floor_resync", None),
    ("no-op floor of the stack (floor_noop.py)", "noop_floor", "floor_resync", None),
    ("PostgreSQL first sync", "pg_first", "pg_floor_first", None),
    ("PostgreSQL day-2 resync", "pg_resync", "pg_floor_resync", None),
    ("PostgreSQL no-op resync", "pg_noop", "pg_floor_resync", None),
]


def report(bench: Bench, history: dict[str, Any] | None) -> str:
    r = bench.results
    dlt = f"LOAD__WORKERS=1 ({bench.dlt})" if bench.dlt else "not installed, not measured"
    lines = [
        f"Machine: {machine()}. dlt: {dlt}.",
        f"Medians of {bench.args.repeats} runs (5 for the small cases); wall time of the whole process, peak RSS.",
    ]
    if (0, "imports") in r:
        lines.append(
            f"This machine during the run: `python -c pass` {r[(0, 'python')].median:.2f} s; "
            f"`import sqlalchemy.orm, httpx` without httpx's own command-line client (the "
            f"stack's imports as every sync pays them) {r[(0, 'imports')].median:.2f} s."
        )
    lines += ["", *case_rows(r, bench.args.sizes)]
    targets = size_targets(bench) + small_targets(bench) + history_targets(history)
    lines += ["", "| target | measured | |", "|---|---|---|"]
    lines += [
        f"| {name} | {value} | {'-' if ok is None else verdict(ok)} |"
        for name, value, ok in targets
    ]
    if history:
        c = history["counts"]
        lines += [
            "",
            f"History growth: {history['runs']} runs of a 100-model catalog, ~2% of prices changing per run "
            f"(simulated hourly observations, built in {history['build_s']:.0f} s): database {history['db_mb']:.1f} MiB; "
            f"{c['sync_runs']} sync_runs, {c['cost_history']} cost_history, {c['catalog_changes']} catalog_changes, {c['payloads']} payloads.",
        ]
    return "\n".join(lines)


def case_rows(r: dict[tuple[int, str], Sample], sizes: list[int]) -> list[str]:
    """The table: every case measured, against its floor and dlt."""
    rows = [
        "| N | case | ours s (min-max) | ours MiB | floor s | floor MiB | dlt s | ratio ours/floor | dlt/ours |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        for label, ours, floor, dlt in CASES:
            if (n, ours) not in r:
                continue
            o, f = r[(n, ours)], r[(n, floor)]
            d = r.get((n, dlt)) if dlt else None
            rows.append(
                f"| {n} | {label} | {o.median:.2f} ({o.spread()}) | {o.rss:.0f} | {f.median:.2f} | {f.rss:.0f} | "
                f"{f'{d.median:.2f}' if d else '-'} | {o.median / f.median:.2f}x | {f'{d.median / o.median:.1f}x' if d else '-'} |"
            )
    return rows


def size_targets(bench: Bench) -> list[Target]:
    """The ratios at the largest size, and dlt's."""
    r, big = bench.results, max(bench.args.sizes)
    targets = ratio_targets(r, big) if big >= 100000 else []
    if not bench.dlt:
        return [*targets, ("against dlt", "dlt not installed", None)]
    if (big, "dlt_first") in r:
        slower = r[(big, "dlt_first")].median / r[(big, "ours_first")].median
        targets.append((f"{big}: dlt's first load >= 5x ours", f"{slower:.1f}x", slower >= 5))
    return targets


def small_targets(bench: Bench) -> list[Target]:
    """The 22-model catalog, the priced one, the 1k first sync and `--help`."""
    r = bench.results
    small = r.get((22, "small_sync"))
    if not small:
        return []
    fresh = r[(22, "small_fresh_db")]
    first, unchanged = r[(22, "priced_first")], r[(22, "priced_unchanged")]
    n_first = bench.requests["priced_first"]
    targets: list[Target] = [
        (
            "22-model catalog, whole `catalog-sync sync` process <= 0.6 s",
            f"{small.median:.2f} s (into a fresh database: {fresh.median:.2f} s)",
            small.median <= 0.6,
        ),
        (
            "22-model catalog, details and pricing on: first run, then an unchanged one"
            " (requests, whole process; budget raised on loopback)",
            f"{n_first} requests in {first.median:.2f} s; "
            f"{bench.requests['priced_unchanged']} in {unchanged.median:.2f} s "
            f"(at the default 60 requests a minute the first run needs "
            f"{max(0, -(-n_first // 60) - 1)} min or more)",
            None,
        ),
    ]
    if (1000, "ours_first") in r:
        k1, floor = r[(1000, "ours_first")].median, r[(0, "imports")].median
        targets.append(
            (
                "1k first sync within 0.1 s of the stack's import floor",
                f"{k1:.2f} s vs {floor:.2f} s (+{k1 - floor:.2f} s)",
                k1 - floor <= 0.1,
            )
        )
    help_ = r[(0, "help")]
    targets.append(("`catalog-sync --help` <= 0.2 s", f"{help_.median:.3f} s", help_.median <= 0.2))
    return targets


def history_targets(history: dict[str, Any] | None) -> list[Target]:
    if not history:
        return []
    return [
        (
            f"history of {history['runs']} runs: {name} <= 50 ms",
            f"{seconds * 1000:.1f} ms ({rows} rows)",
            seconds <= 0.05,
        )
        for name, (seconds, rows) in history["timings"].items()
    ]


def ratio_targets(r: dict[tuple[int, str], Sample], n: int) -> list[Target]:
    """Issue 28's ratios at `n` models, each against its floor in the same run."""
    wanted = [
        ("first sync wall <= 1.2x floor", "ours_first", "floor_first", 1.2, False),
        ("first sync peak RSS <= 1.0x floor", "ours_first", "floor_first", 1.0, True),
        ("day-2 resync wall <= 0.8x floor resync", "ours_resync", "floor_resync", 0.8, False),
        ("no-op resync wall <= 0.1x floor resync", "ours_noop", "floor_resync", 0.1, False),
        ("PostgreSQL first sync wall <= 1.5x COPY floor", "pg_first", "pg_floor_first", 1.5, False),
        ("PostgreSQL day-2 resync wall <= 1.0x floor", "pg_resync", "pg_floor_resync", 1.0, False),
    ]
    found = []
    for name, ours, floor, most, memory in wanted:
        if (n, ours) not in r or (n, floor) not in r:
            continue
        o, f = r[(n, ours)], r[(n, floor)]
        ratio = o.rss / f.rss if memory else o.median / f.median
        found.append((f"{n} {name}", f"{ratio:.2f}x", ratio <= most))
    if (n, "noop_floor") in r and (n, "floor_resync") in r:
        least = r[(n, "noop_floor")].median / r[(n, "floor_resync")].median
        found.append(
            (
                f"{n} the stack's own no-op (floor_noop.py: imports, GET, hash) / floor resync",
                f"{least:.2f}x (the least any no-op on this stack can be)",
                None,
            )
        )
    return found


def write_doc(path: Path, text: str) -> None:
    marker = "<!-- benchmark results -->"
    doc = path.read_text() if path.exists() else marker + "\n"
    head = doc.split(marker)[0]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(f"{head}{marker}\n\nRun of {stamp} (`benchmarks/run.py`):\n\n{text}\n")
