"""Invariants of repricing a usage log, for any log, on the priced history (both
backends): the summary is the sum of the priced rows; every priced row's price
is the period covering its time; a log repriced at WHEN answers as `cost --at
WHEN` does for each record."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.catalogs import HISTORY_TIMES
from support.harness import Harness

from catalog_sync.analysts.cost import Pricer
from catalog_sync.analysts.usage import ALL, priced_rows, summarise
from catalog_sync.analysts.usage_log import read_usage
from catalog_sync.errors import UsageError
from catalog_sync.storage.schema import UTCDateTime

FIRST = dt.datetime.fromisoformat(HISTORY_TIMES[1]).replace(tzinfo=dt.UTC)
LAST = dt.datetime.fromisoformat(HISTORY_TIMES[6]).replace(tzinfo=dt.UTC)
MODELS = ["veo-3.1", "veo-3.1-flf", "seedance-1.5", "grok-imagine-video-edit", "kling-pro", "nope"]
VALUES = {
    "duration": [4, 5, 6, 8, 10, 7, "8"],
    "resolution": ["720p", "1080p", "4K", "1080P", "240p"],
    "generateAudio": [True, False],
    "prompt": ["a cat"],
}
moments = st.integers(-2 * 86400, int((LAST - FIRST).total_seconds()) + 5 * 86400).map(
    lambda s: FIRST + dt.timedelta(seconds=s)
)
records = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS),
        "at": moments.map(lambda m: m.isoformat()),
        "params": st.dictionaries(
            st.sampled_from(sorted(VALUES)), st.sampled_from([0, 1, 2, 3, 4]), max_size=3
        ),
        "count": st.integers(1, 5),
    },
    optional={"charged": st.decimals(0, 500, places=2).map(str)},
).map(lambda r: {**r, "params": {k: VALUES[k][i % len(VALUES[k])] for k, i in r["params"].items()}})
logs = st.lists(records, max_size=25)


def jsonl(log: list[dict[str, Any]]) -> io.StringIO:
    return io.StringIO("".join(json.dumps(record) + "\n" for record in log))


def covering_cost(connection: sa.Connection, row: dict[str, Any]) -> float:
    """The cost of the period (of the row's source) covering the row's time."""
    table, cost, match = (
        ("price_points", "cost_per_generation", "AND p.params = :params")
        if row["source"] == "quote"
        else ("cost_history", "base_cost", "")
    )
    params = json.dumps(row["params"], sort_keys=True, separators=(",", ":"))
    query = sa.text(
        f"SELECT p.{cost} FROM {table} p JOIN models m ON m.id = p.model_id"
        f" WHERE m.name = :model {match} AND p.valid_from <= :at"
        " AND (p.valid_to IS NULL OR p.valid_to > :at)"
    ).bindparams(sa.bindparam("at", type_=UTCDateTime()))
    found = connection.execute(
        query, {"model": row["model"], "params": params, "at": row["at"]}
    ).all()
    assert len(found) == 1, (row, found)
    return float(found[0][0])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(log=logs, when=moments)
def test_repricing_a_usage_log_keeps_its_invariants(
    priced_history: Harness, log: list[dict[str, Any]], when: dt.datetime
) -> None:
    engine = priced_history.engine()
    try:
        with engine.connect() as connection:
            rows = list(priced_rows(Pricer(connection), read_usage(jsonl(log))))
            summary, _ = summarise(Pricer(connection), read_usage(jsonl(log)))
            overall = summary[-1]
            assert overall["model"] == ALL and overall["records"] == len(log)
            priced = [r for r in rows if r["total_cost"] is not None]
            assert overall["credits"] == sum((r["total_cost"] for r in priced), Decimal(0))
            assert overall["priced_records"] == len(priced)
            for model_row in summary[:-1]:
                mine = [r for r in priced if r["model"] == model_row["model"]]
                assert model_row["credits"] == sum((r["total_cost"] for r in mine), Decimal(0))
            for row in priced:
                assert float(row["cost_per_generation"]) == covering_cost(connection, row)
                assert row["total_cost"] == row["cost_per_generation"] * row["count"]
            at_when = list(priced_rows(Pricer(connection), read_usage(jsonl(log)), at=when))
            single = Pricer(connection)
            for row in at_when:
                if row["basis"] in ("invalid", "before_first_seen", "removed"):
                    continue  # no point resolved: the params are the record's own
                given = dict(row["params"])
                try:
                    alone = single.record(row["model"], given, when, count=row["count"])
                except UsageError:
                    raise AssertionError(row) from None
                assert {k: alone[k] for k in alone} == {k: row[k] for k in alone}
    finally:
        engine.dispose()
