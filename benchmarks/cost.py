#!/usr/bin/env python3
"""`catalog-sync cost` benchmarks, side by side with their floors, in one run.

    .venv/bin/python benchmarks/cost.py                     # 100k models, 1,000,000 records
    .venv/bin/python benchmarks/cost.py --models 10000 --records 100000   # a quick look

1. A history: the synthetic catalog (benchmarks/gen_catalog.py) at N models,
   imported on two days (day 2: 10 % of the prices changed), pricing off.
2. A usage log of R records (model, at, count; times across both days and
   before the first, names of models that never existed too), as CSV.
3. `catalog-sync cost --usage` as a whole process (wall, peak RSS) against the
   stdlib floor (benchmarks/floor_cost.py: csv + sqlite3, a temporary table and
   one LEFT JOIN to the periods), and their answers compared: records,
   generations, priced records, credits (exact).
4. One `catalog-sync cost MODEL --at WHEN` as a whole process against the
   import floor of the mandated stack (`import sqlalchemy.orm, httpx, click`, httpx
   without its own command-line client, as catalog-sync imports it).

Targets (issue 25): cost --usage at most 2x the floor's wall time and at most
200 MiB peak RSS, answers equal; one cost within 0.1 s of the import floor.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from measuring import STACK_IMPORTS, compile_package  # beside this script

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DAY1, DAY2 = "2026-11-01T06:00:00Z", "2026-11-02T06:00:00Z"


def timed(argv: list[str], **kwargs: object) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB (GNU time), stdout of one process."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True, check=True, **kwargs
    )
    wall = time.perf_counter() - started
    rss_kb = int(done.stderr.strip().splitlines()[-1])
    return wall, rss_kb / 1024, done.stdout


def history(work: Path, models: int, cli: list[str]) -> Path:
    db = work / "history.db"
    if db.exists():
        return db
    days = []
    for day, mutate in ((DAY1, None), (DAY2, 0.1)):
        out = work / f"catalog-{day[:10]}.json"
        extra = ["--mutate", str(mutate)] if mutate else []
        subprocess.run(
            [sys.executable, BENCH / "gen_catalog.py", str(models), "--out", out, *extra],
            check=True,
        )
        days.append((out, day))
    env = {"CATALOG_SYNC_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    for out, day in days:
        subprocess.run(
            [*cli, "import", str(out), "--observed-at", day, "--allow-mass-removal"],
            check=True,
            env=env,
            capture_output=True,
        )
    return db


def usage_log(work: Path, db: Path, records: int) -> Path:
    import sqlite3

    path = work / f"usage-{records}.csv"
    if path.exists():
        return path
    with sqlite3.connect(db) as connection:
        names = [n for (n,) in connection.execute("SELECT name FROM models")]
    names += [f"never-{i}" for i in range(50)]
    rng = random.Random(7)
    start = int(datetime(2026, 10, 31, 12, tzinfo=UTC).timestamp())  # before the first day too
    with path.open("w") as out:
        out.write("model,at,count\n")
        for _ in range(records):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rng.randrange(200_000)))
            out.write(f"{rng.choice(names)},{at},{rng.randint(1, 3)}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", help="scratch folder (kept; default: a new temporary one)")
    args = parser.parse_args()
    compile_package(sys.executable)  # as an installed wheel is
    work = Path(args.work or tempfile.mkdtemp(prefix="catalog-cost-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    script = Path(sys.executable).parent / "catalog-sync"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "catalog_sync"]
    db = history(work, args.models, cli)
    usage = usage_log(work, db, args.records)
    env = {"CATALOG_SYNC_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    ours, floor = [], []
    for _ in range(args.repeats):
        floor.append(timed([sys.executable, BENCH / "floor_cost.py", "--db", db, "--usage", usage]))
        ours.append(timed([*cli, "cost", "--usage", str(usage), "--format", "json"], env=env))
    answer = dict(kv.split("=", 1) for kv in floor[-1][2].split()[-7:] if "=" in kv)
    (overall,) = [r for r in json.loads(ours[-1][2]) if r["model"] == "(all)"]
    same = (
        int(answer["records"]) == overall["records"]
        and int(answer["generations"]) == overall["generations"]
        and int(answer["priced"]) == overall["priced_records"]
        and Decimal(answer["credits"]) == Decimal(str(overall["credits"]))
    )
    import sqlite3

    with sqlite3.connect(db) as connection:
        (name,) = connection.execute("SELECT name FROM models ORDER BY id LIMIT 1").fetchone()
    one = [timed([*cli, "cost", name, "--at", DAY2], env=env) for _ in range(7)]
    imports = [timed([sys.executable, "-c", STACK_IMPORTS + ", click"]) for _ in range(7)]
    ours_s, floor_s = (statistics.median(w for w, _, _ in runs) for runs in (ours, floor))
    rss = max(r for _, r, _ in ours)
    one_s, import_s = (statistics.median(w for w, _, _ in runs) for runs in (one, imports))
    print(f"history: {args.models} models, two days; usage: {args.records} records ({work})")
    print("| case | floor | catalog-sync | ratio | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        f"| cost --usage, {args.records} records | {floor_s:.2f} s | {ours_s:.2f} s, "
        f"{rss:.0f} MiB | {ours_s / floor_s:.2f}x | <= 2x, <= 200 MiB: "
        f"{'met' if ours_s <= 2 * floor_s and rss <= 200 else 'NOT met'} |"
    )
    print(
        f"| one cost MODEL --at, whole process | {import_s:.3f} s (imports) | {one_s:.3f} s | "
        f"+{one_s - import_s:.3f} s | <= +0.1 s: {'met' if one_s - import_s <= 0.1 else 'NOT met'} |"
    )
    print(f"answers equal to the floor's: {same} (floor {answer}; ours {overall})")


if __name__ == "__main__":
    main()
