"""The history-growth case of benchmarks/run.py: thousands of runs of a small
catalog written as the CLI writes them, then the analysts' usual queries."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from measuring import KEY

from catalog_sync.fakehoox import FakeHooxApi

if TYPE_CHECKING:
    from run import Bench


def history_growth(bench: Bench) -> dict[str, Any]:
    """5,000 runs of a 100-model catalog, ~2% of prices changing per run."""
    from sqlalchemy import text

    from catalog_sync.analysts.queries import prices_as_of
    from catalog_sync.storage.engine import make_engine

    db = bench.work / "history.db"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    base = (
        json.loads((bench.work / "day1_1000.json").read_text())
        if (bench.work / "day1_1000.json").exists()
        else None
    )
    if base is None:
        d1, _ = bench.catalogs(1000)
        base = json.loads(d1.read_text())
    models = base["models"][:100]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    runs = bench.args.history_runs
    began = time.perf_counter()
    build(engine, models, start, runs)
    build_s = time.perf_counter() - began
    last = start + dt.timedelta(hours=runs - 1)
    queries = {
        "price_changes, last 30 days": lambda c: c.execute(
            text("SELECT * FROM price_changes WHERE changed_at >= :since ORDER BY changed_at"),
            {"since": (last - dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")},
        ).all(),
        "prices as of a moment": lambda c: prices_as_of(c, start + dt.timedelta(hours=runs // 2)),
    }
    with engine.connect() as connection:
        timings = {name: timed(query, connection) for name, query in queries.items()}
        counts = {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("sync_runs", "cost_history", "catalog_changes", "payloads")
        }
    engine.dispose()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "runs": runs,
        "build_s": build_s,
        "db_mb": db.stat().st_size / 1048576,
        "timings": timings,
        "counts": counts,
    }


def timed(query: Any, connection: Any) -> tuple[float, int]:
    """A query's median time over 7 runs once its cache is warm, and its row count."""
    query(connection)
    times = []
    for _ in range(7):
        started = time.perf_counter()
        rows = query(connection)
        times.append(time.perf_counter() - started)
    return statistics.median(times), len(rows)


def build(engine: Any, models: list[dict[str, Any]], start: dt.datetime, runs: int) -> None:
    """`runs` hourly runs from `start`, two prices of `models` changing in each.
    Each run is wired as the CLI wires it (catalog_sync.runner), its requests
    answered by the fake in process (no socket): the history's cost is the run's."""
    import random

    from catalog_sync.config import ApiConfig, Config
    from catalog_sync.runner.runs import sync_once

    rng = random.Random(42)
    fake = FakeHooxApi(api_key=KEY)
    config = Config(api=ApiConfig(base_url="http://127.0.0.1:9", max_requests_per_minute=10**9))
    transport = fake.transport()
    for run in range(runs):
        for item in rng.sample(models, 2):
            item["base_cost"] = round(item["base_cost"] * rng.choice([0.9, 1.1]), 2) or 0.5
        body = json.dumps({"models": models, "count": len(models)}).encode()
        moment = start + dt.timedelta(hours=run)
        fake.set_body(body)
        sync_once(config, engine, KEY, clock=lambda moment=moment: moment, transport=transport)
