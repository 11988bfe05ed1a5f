"""`last_confirmed_at` on cost_history and price_points (when a price was last seen
unchanged), the `price_periods` view built on it, and migration 0012's backfill,
on both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from support.catalogs import HISTORY_TIMES, catalog, model
from support.harness import Harness

from catalog_sync.storage import migrate
from catalog_sync.storage.schema import UTCDateTime

TIMES = ("valid_from", "valid_to", "last_confirmed_at", "window_from", "observed_at")


def typed(h: Harness, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows with their timestamps as aware UTC datetimes on both backends."""
    engine = h.engine()
    try:
        with engine.connect() as connection:
            query = sa.text(sql).columns(**{name: UTCDateTime() for name in TIMES})
            return [tuple(row) for row in connection.execute(query, params)]
    finally:
        engine.dispose()


def observed(h: Harness) -> dict[int, dt.datetime]:
    """Each run's observation time, by run id."""
    return dict(typed(h, "SELECT id, observed_at FROM sync_runs ORDER BY id"))  # type: ignore[arg-type]


def periods(h: Harness) -> list[tuple[Any, ...]]:
    """The base-cost periods with their confirmation, as analysts read it."""
    return typed(
        h,
        "SELECT model, cost_per_generation, valid_from, valid_to, last_confirmed_at"
        " FROM price_periods WHERE source = 'base_cost' ORDER BY model, valid_from",
    )


def at(run: int) -> dt.datetime:
    return dt.datetime.fromisoformat(HISTORY_TIMES[run]).replace(tzinfo=dt.UTC)


def test_every_successful_run_that_lists_a_price_confirms_it(harness: Harness) -> None:
    harness.serve(catalog(model("a", 1.0), model("b", 2.0)))
    harness.sync()  # run 1
    harness.sync()  # run 2: the same body, recorded without applying; it saw both prices
    t = observed(harness)
    assert periods(harness) == [("a", 1.0, t[1], None, t[2]), ("b", 2.0, t[1], None, t[2])]
    harness.api.serve_body(b"not json")
    harness.sync(expect=1)  # run 3 failed: it saw nothing
    harness.serve(catalog())
    harness.sync(expect=3)  # run 4 refused (mass removal): nothing either
    assert periods(harness) == [("a", 1.0, t[1], None, t[2]), ("b", 2.0, t[1], None, t[2])]
    harness.serve(catalog(model("a", 1.5), model("b", 2.0, label="Bee")))
    harness.sync()  # run 5: a re-priced, b changed otherwise
    t = observed(harness)
    assert periods(harness) == [
        ("a", 1.0, t[1], t[5], t[2]),  # last seen at 1.0 by run 2
        ("a", 1.5, t[5], None, t[5]),  # a new period is confirmed at its start
        ("b", 2.0, t[1], None, t[5]),
    ]


def test_a_model_missing_within_its_grace_is_not_confirmed(harness: Harness) -> None:
    harness.settings["sync"] = {"removal_grace_runs": 2}
    harness.serve(catalog(model("a"), model("b")))
    harness.sync()  # run 1
    harness.serve(catalog(model("a")))
    harness.sync()  # run 2: b missing, within its grace
    harness.sync()  # run 3: the same body, b missing again: removed
    t = observed(harness)
    assert periods(harness) == [("a", 1.0, t[1], None, t[3]), ("b", 1.0, t[1], t[3], t[1])]
    harness.serve(catalog(model("a"), model("b")))
    harness.sync()  # run 4: b restored, its new period confirmed at its start
    t = observed(harness)
    assert periods(harness)[1:] == [("b", 1.0, t[1], t[3], t[1]), ("b", 1.0, t[4], None, t[4])]


def test_a_model_back_within_its_grace_is_confirmed_again(harness: Harness) -> None:
    """Missing within its grace, an open period keeps the last run that listed
    it, whatever runs follow; listed again, the runs confirm it again."""
    harness.settings["sync"] = {"removal_grace_runs": 3}
    harness.serve(catalog(model("a"), model("b")))
    harness.sync()  # run 1
    harness.serve(catalog(model("a")))
    harness.sync()  # run 2: b missing, within its grace
    harness.sync()  # run 3: still missing, still within it
    t = observed(harness)
    assert periods(harness) == [("a", 1.0, t[1], None, t[3]), ("b", 1.0, t[1], None, t[1])]
    harness.serve(catalog(model("a"), model("b")))
    harness.sync()  # run 4: b listed again, at its price
    harness.sync()  # run 5: the same body, recorded without applying it
    t = observed(harness)
    assert periods(harness) == [("a", 1.0, t[1], None, t[5]), ("b", 1.0, t[1], None, t[5])]


def _video(name: str) -> dict[str, Any]:
    return model(
        name,
        10.0,
        has_audio=False,
        capabilities={
            "supported_durations": [4, 8],
            "default_duration": 8,
            "supported_resolutions": ["720p", "1080p"],
            "default_resolution": "720p",
        },
    )


def points(h: Harness) -> dict[tuple[str, Any], tuple[Any, ...]]:
    rows = typed(
        h,
        "SELECT params, valid_from, valid_to, cost_per_generation, last_confirmed_at"
        " FROM price_points ORDER BY params, valid_from",
    )
    return {(params, start): tuple(rest) for params, start, *rest in rows}


def test_a_quote_that_returns_the_same_price_confirms_that_point(harness: Harness) -> None:
    harness.settings["api"] = {"max_requests_per_minute": 10_000}
    harness.settings["details"] = {"enabled": True, "refresh_hours": 0}
    harness.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    harness.serve(catalog(_video("v")))
    harness.sync()  # run 1: four points quoted
    harness.sync()  # run 2: quoted again, the same prices
    t = observed(harness)
    assert {v[2] for v in points(harness).values()} == {t[2]}
    harness.api.pricing.reprice("v", 2.0, resolution="1080p", duration=8)
    harness.sync()  # run 3: one point re-priced
    harness.api.pricing.fail("v", "quote", status=500, times=50)
    harness.sync()  # run 4: the quotes fail: nothing confirmed, nothing closed
    t = observed(harness)
    key = '{"duration":8,"resolution":"1080p"}'
    found = points(harness)
    old = found.pop((key, t[1]))
    assert old[0] == t[3] and old[2] == t[2]  # closed by run 3, last returned by run 2
    assert found.pop((key, t[3])) == (None, 2 * old[1], t[3])
    assert sorted(found) == [(p, t[1]) for p in sorted(p for p, _ in found)]
    assert {(end, confirmed) for end, _, confirmed in found.values()} == {(None, t[3])}


def test_price_periods_on_the_shared_history(history: Harness) -> None:
    """veo-3.1: 32 from run 1, last seen at 32 by run 3 (run 4 failed), 28 from run 5,
    30 from run 6; grok-imagine-video-edit removed by run 5, back at run 6 after a gap."""
    rows = typed(
        history,
        "SELECT model, params, source, cost_per_generation, valid_from, valid_to,"
        " window_from, last_confirmed_at, sync_run_id FROM price_periods"
        " WHERE model IN ('veo-3.1', 'grok-imagine-video-edit') ORDER BY model, valid_from",
    )
    assert rows == [
        ("grok-imagine-video-edit", None, "base_cost", 4.0, at(1), at(5), None, at(3), 1),
        ("grok-imagine-video-edit", None, "base_cost", 5.0, at(6), None, None, at(6), 6),
        ("veo-3.1", None, "base_cost", 32.0, at(1), at(5), None, at(3), 1),
        ("veo-3.1", None, "base_cost", 28.0, at(5), at(6), at(3), at(5), 5),
        ("veo-3.1", None, "base_cost", 30.0, at(6), None, at(5), at(6), 6),
    ]


def test_price_periods_of_a_quoted_point(priced_history: Harness) -> None:
    """veo-3.1-flf's point (8 s, 1080p, audio), re-priced x1.25 before run 5: quoted
    at runs 1, 3 and 5 (refresh_hours = 480), so its change lies between runs 3 and 5."""
    rows = typed(
        priced_history,
        "SELECT cost_per_generation, valid_from, valid_to, window_from, last_confirmed_at,"
        " sync_run_id FROM price_periods"
        " WHERE model = 'veo-3.1-flf' AND source = 'quote' AND params = :p ORDER BY valid_from",
        p='{"duration":8,"generateAudio":true,"resolution":"1080p"}',
    )
    (old, *first), (new, *second) = rows
    assert new == old * 1.25
    assert [first, second] == [[at(1), at(5), None, at(3), 1], [at(5), None, at(3), at(5), 5]]


def test_0012_backfills_from_the_runs_and_the_last_quotes(priced_history: Harness) -> None:
    """Downgraded to 0011 and upgraded again: a base-cost period gets the last
    successful run within it (here exactly what the runs wrote), an open point its
    model's last full quote, a closed point its valid_from."""
    costs_sql = "SELECT id, last_confirmed_at FROM cost_history ORDER BY id"
    points_sql = (
        "SELECT id, valid_to IS NULL AS open, valid_from, last_confirmed_at"
        " FROM price_points ORDER BY id"
    )
    costs, written = typed(priced_history, costs_sql), typed(priced_history, points_sql)
    engine = priced_history.engine()
    try:
        migrate.downgrade(engine, "0011")
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert typed(priced_history, costs_sql) == costs
    backfilled = typed(priced_history, points_sql)
    assert [r for r in backfilled if r[1]] == [r for r in written if r[1]]
    assert all(r[3] == r[2] for r in backfilled if not r[1])
    assert any(r[3] != r[2] for r in written if not r[1])  # what the runs knew better


def test_0014_keeps_a_confirmation_only_where_a_period_stopped_being_confirmed(
    priced_history: Harness,
) -> None:
    """Downgraded to 0013, every open period of a listed model holds the latest
    successful run's time again (as 0012 to 0013 wrote it); upgraded, NULL again.
    What analysts read (price_periods) is the same throughout."""
    view_sql = (
        "SELECT model, source, params, valid_from, valid_to, window_from, last_confirmed_at"
        " FROM price_periods ORDER BY model, source, params, valid_from"
    )
    stored_sql = (
        "SELECT id, valid_to IS NULL AS open, last_confirmed_at FROM cost_history ORDER BY id"
    )
    view, stored = typed(priced_history, view_sql), typed(priced_history, stored_sql)
    [(latest,)] = typed(
        priced_history,
        "SELECT MAX(observed_at) AS observed_at FROM sync_runs WHERE status = 'success'",
    )
    assert any(r[2] is None for r in stored) and any(r[2] is not None for r in stored)
    assert all(r[1] for r in stored if r[2] is None)  # only open periods hold NULL
    engine = priced_history.engine()
    try:
        migrate.downgrade(engine, "0013")
        assert typed(priced_history, stored_sql) == [
            (i, is_open, latest if confirmed is None else confirmed)
            for i, is_open, confirmed in stored
        ]
        assert typed(priced_history, view_sql) == view
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert typed(priced_history, stored_sql) == stored
    assert typed(priced_history, view_sql) == view
