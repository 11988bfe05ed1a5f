"""storage/details.py as a specification, from recorded API answers (the
github-to-sqlite way): Get Model bodies and pricing quotes recorded from the fake
Hoox API's engine (tests/storage/recorded/, see its README) are turned into a
`RunDetails` as `flows.enrich.gather` does (parse_details, the price grid,
parse_quote, params_text), applied by `apply_run_details` in the run's one
transaction after the catalog's change set (as flows.sync._apply does), and the
`model_details`, `model_settings` and `price_points` rows are asserted exactly,
read back with plain SQL, on both backends.

The recorded models: veo-3.1 (18 points: 3 durations x 3 resolutions x a
cost-relevant `generateAudio` switch), kling-pro (4 points) and
grok-imagine-image (no dimension: one point, `{}`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog_sync.core.details import DetailFailure, Details, parse_details
from catalog_sync.core.payload import parse_catalog
from catalog_sync.core.pricing import params_text, parse_quote, price_grid, quote_body
from catalog_sync.flows.sync import diff_against_store
from catalog_sync.storage import runs
from catalog_sync.storage.apply import apply_changes
from catalog_sync.storage.details import RunDetails, apply_run_details
from catalog_sync.storage.schema import UTCDateTime

RECORDED = Path(__file__).resolve().parent / "recorded"
CATALOG = Path(__file__).resolve().parents[2] / "catalog_sync" / "samples" / "catalog-1.json"

T1 = dt.datetime(2026, 9, 1, 6, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 9, 2, 6, 0, 0, 500000, tzinfo=dt.UTC)

MODELS = ("grok-imagine-image", "kling-pro", "veo-3.1")
MAX_POINTS = 64  # pricing.max_points_per_model's default
TIME_COLUMNS = ("fetched_at", "quoted_at", "valid_from", "valid_to", "changed_at")

# What the fetch of kling-pro's details says in run 2 (a 500 after the retries).
FETCH_FAILED = (
    "GET https://app.hoox.video/api/public/v1/asset/models/kling-pro"
    " failed after 5 attempt(s): HTTP 500"
)

# veo-3.1's recorded costs per (duration, resolution): with audio, without.
VEO_COSTS = {
    (4, "720p"): (16.0, 9.6),
    (4, "1080p"): (24.0, 14.4),
    (4, "4K"): (48.0, 28.8),
    (6, "720p"): (24.0, 14.4),
    (6, "1080p"): (36.0, 21.6),
    (6, "4K"): (72.0, 43.2),
    (8, "720p"): (32.0, 19.2),
    (8, "1080p"): (48.0, 28.8),
    (8, "4K"): (96.0, 57.6),
}
REPRICED = '{"duration":8,"generateAudio":true,"resolution":"4K"}'


# --- the recorded answers, made into what a run gathered -------------------------


def get_model(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((RECORDED / f"get_model_{name}.json").read_text())
    return body


def fetched(name: str) -> Details:
    """The recorded Get Model body of `name`, validated as gather validates it."""
    return parse_details((RECORDED / f"get_model_{name}.json").read_bytes(), name)


def answers(name: str, recording: str = "") -> dict[str, float | str]:
    """params text -> cost of each recorded quote of `name` (the quotes_ file with
    `recording` appended), or the failure gather keeps for that point. Every
    recorded request is one gather sends for a point of the model's grid."""
    grid = price_grid(fetched(name), max_points=MAX_POINTS)
    points = {json.dumps(quote_body(name, p), sort_keys=True): p for p in grid}
    exchanges = json.loads((RECORDED / f"quotes_{name}{recording}.json").read_text())
    found: dict[str, float | str] = {}
    for exchange in exchanges:
        params = points[json.dumps(exchange["request"], sort_keys=True)]
        try:
            found[params_text(params)] = parse_quote(
                json.dumps(exchange["response"]).encode(), name
            ).cost
        except DetailFailure as exc:
            found[params_text(params)] = f"{exc} (params {params_text(params)})"
    if not recording:
        assert len(found) == len(grid), f"quotes_{name}.json does not cover the grid"
    return found


def gathered(
    details: tuple[str, ...],
    quotes: dict[str, dict[str, float | str]],
    detail_failures: dict[str, str] | None = None,
) -> RunDetails:
    """A RunDetails as flows.enrich.gather builds it: a model whose details failed
    is not quoted; a model with a failed quote keeps the first failure, no point."""
    run = RunDetails(
        details={name: fetched(name) for name in details},
        detail_failures=dict(detail_failures or {}),
        points={},
        quote_failures={},
    )
    for name in run.detail_failures:
        run.quote_failures[name] = "not quoted: its details failed"
    for name, found in quotes.items():
        failures = [outcome for outcome in found.values() if isinstance(outcome, str)]
        if failures:
            run.quote_failures.setdefault(name, failures[0])
        else:
            run.points[name] = {params: float(cost) for params, cost in found.items()}
    return run


def first_run() -> RunDetails:
    return gathered(MODELS, {name: answers(name) for name in MODELS})


def sync_run(engine: sa.Engine, at: dt.datetime, run_details: RunDetails) -> list[dict[str, Any]]:
    """One run observed at `at`: its sync_runs row, then catalog-1's change set and
    the details in one transaction, as flows.sync._apply writes them. The re-priced
    points apply_run_details returns."""
    with Session(engine) as session, session.begin():
        run_id = runs.start_run(session, trigger="test", started_at=at)
    with Session(engine) as session, session.begin():
        changes, _active = diff_against_store(session, parse_catalog(CATALOG.read_bytes()).items)
        apply_changes(session, changes, observed_at=at, run_id=run_id)
        return apply_run_details(session, run_details, observed_at=at, run_id=run_id)


# --- reading back -----------------------------------------------------------------


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    typed = sa.text(sql).columns(**{name: UTCDateTime() for name in TIME_COLUMNS})
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(typed, params)]


def details_rows(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """model_details by model name, `raw` parsed back from its stored JSON text."""
    return [
        (name, json.loads(raw), *rest)
        for name, raw, *rest in rows(
            engine,
            "SELECT m.name, CAST(d.raw AS TEXT), d.fetched_at, d.quoted_at, d.error,"
            " d.details_failed, d.quotes_failed"
            " FROM model_details d JOIN models m ON m.id = d.model_id ORDER BY m.name",
        )
    ]


def settings_rows(engine: sa.Engine) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT m.name, s.key, s.type, s.label, CAST(s.default_value AS TEXT), s.affects_cost,"
        " CAST(s.options AS TEXT)"
        " FROM model_settings s JOIN models m ON m.id = s.model_id ORDER BY m.name, s.key",
    )


def point_rows(engine: sa.Engine, name: str | None = None) -> list[tuple[Any, ...]]:
    """(model, params, cost, valid_from, valid_to, run) of `name`'s points (else
    all), by model, params and start, sorted here: the backends collate text
    differently."""
    found = rows(
        engine,
        "SELECT m.name, p.params, p.cost_per_generation, p.valid_from, p.valid_to,"
        " p.sync_run_id FROM price_points p JOIN models m ON m.id = p.model_id",
    )
    return sorted((row for row in found if name in (None, row[0])), key=by_point)


def by_point(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row[0], row[1], row[3]


@pytest.fixture
def first(engine: sa.Engine) -> sa.Engine:
    """Run 1 at T1: catalog-1 added, and the recorded details and quotes of MODELS."""
    assert sync_run(engine, T1, first_run()) == []
    return engine


# --- the specs --------------------------------------------------------------------


def test_first_details_and_settings(first: sa.Engine) -> None:
    # One row per model fetched; `raw` is the body as received.
    assert details_rows(first) == [
        (name, get_model(name), T1, T1, None, False, False) for name in MODELS
    ]
    # A setting's default is JSON text; no options: NULL. grok-imagine-image has none.
    assert settings_rows(first) == [
        ("kling-pro", "generateAudio", "boolean", "audio", "true", True, None),
        ("veo-3.1", "generateAudio", "boolean", "audio", "true", True, None),
    ]
    # A model's first details are no change.
    assert rows(first, "SELECT DISTINCT kind FROM catalog_changes") == [("added",)]


def test_first_price_points(first: sa.Engine) -> None:
    veo = [
        (
            "veo-3.1",
            f'{{"duration":{duration},"generateAudio":{audio},"resolution":"{resolution}"}}',
            cost,
            T1,
            None,
            1,
        )
        for (duration, resolution), costs in VEO_COSTS.items()
        for audio, cost in zip(("true", "false"), costs, strict=True)
    ]
    assert point_rows(first, "veo-3.1") == sorted(veo, key=by_point)
    assert point_rows(first, "kling-pro") == [
        ("kling-pro", '{"duration":10,"generateAudio":false}', 9.0, T1, None, 1),
        ("kling-pro", '{"duration":10,"generateAudio":true}', 15.0, T1, None, 1),
        ("kling-pro", '{"duration":5,"generateAudio":false}', 4.5, T1, None, 1),
        ("kling-pro", '{"duration":5,"generateAudio":true}', 7.5, T1, None, 1),
    ]
    # No dimension: one point, {}.
    assert point_rows(first, "grok-imagine-image") == [
        ("grok-imagine-image", "{}", 0.25, T1, None, 1)
    ]
    assert len(point_rows(first)) == 18 + 4 + 1


def test_a_repriced_quote_closes_its_period_and_opens_one(first: sa.Engine) -> None:
    before = point_rows(first)
    veo = {**answers("veo-3.1"), **answers("veo-3.1", "_repriced")}
    quotes = {"veo-3.1": veo, "grok-imagine-image": answers("grok-imagine-image")}
    run_2 = gathered(("grok-imagine-image", "veo-3.1"), quotes)  # kling-pro is not due

    repriced = sync_run(first, T2, run_2)

    assert repriced == [
        {"name": "veo-3.1", "params": REPRICED, "old_cost": 96.0, "new_cost": 120.0}
    ]
    # The re-priced point: its period ends at T2 (not included), the new one starts there.
    assert [row for row in point_rows(first, "veo-3.1") if row[1] == REPRICED] == [
        ("veo-3.1", REPRICED, 96.0, T1, T2, 1),
        ("veo-3.1", REPRICED, 120.0, T2, None, 2),
    ]
    # Every other point was quoted again at the same price: nothing written.
    assert [row for row in point_rows(first) if row[1] != REPRICED or row[0] != "veo-3.1"] == [
        row for row in before if row[1] != REPRICED or row[0] != "veo-3.1"
    ]
    assert rows(
        first,
        "SELECT model, params, old_cost, new_cost, changed_at, sync_run_id"
        " FROM price_point_changes",
    ) == [("veo-3.1", REPRICED, 96.0, 120.0, T2, 2)]
    # Fetched and quoted again at T2 (kling-pro was not due: untouched).
    assert [
        (name, fetched_at, quoted_at) for name, _, fetched_at, quoted_at, *_ in details_rows(first)
    ] == [
        ("grok-imagine-image", T2, T2),
        ("kling-pro", T1, T1),
        ("veo-3.1", T2, T2),
    ]
    # The same details again: no change logged.
    assert rows(first, "SELECT COUNT(*) FROM catalog_changes WHERE sync_run_id = 2") == [(0,)]


def test_a_failed_model_keeps_its_stored_rows(first: sa.Engine) -> None:
    """kling-pro's Get Model fails (so it is not quoted); grok-imagine-image's
    details arrive but its quote names another model. Both keep their details,
    settings and open points exactly; the failure is recorded for the next run."""
    settings, points = settings_rows(first), point_rows(first)
    bad_quote = answers("grok-imagine-image", "_other_model")
    assert bad_quote == {
        "{}": "quote of 'grok-imagine-image': the answer names another model"
        " ('someone-else') (params {})"
    }
    run_2 = gathered(
        ("grok-imagine-image", "veo-3.1"),
        {"veo-3.1": answers("veo-3.1"), "grok-imagine-image": bad_quote},
        detail_failures={"kling-pro": FETCH_FAILED},
    )

    assert sync_run(first, T2, run_2) == []

    assert details_rows(first) == [
        (
            "grok-imagine-image",
            get_model("grok-imagine-image"),
            T1,
            T1,
            bad_quote["{}"],
            True,
            True,
        ),
        (
            "kling-pro",
            get_model("kling-pro"),
            T1,
            T1,
            f"{FETCH_FAILED}; not quoted: its details failed",
            True,
            True,
        ),
        ("veo-3.1", get_model("veo-3.1"), T2, T2, None, False, False),
    ]
    assert settings_rows(first) == settings
    assert point_rows(first) == points  # no false change, no closed period
    assert rows(first, "SELECT COUNT(*) FROM catalog_changes WHERE sync_run_id = 2") == [(0,)]
