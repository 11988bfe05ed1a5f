"""The analysts' shared history: six real syncs over HTTP from the fake API,
each observed at a known time, wired as every run is (catalog_sync.runner)."""

from __future__ import annotations

from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.storage.engine import make_engine
from support.catalogs import HISTORY_REPRICES, HISTORY_TIMES, history_catalogs


def build_history(api: FakeHooxApi, db_url: str, *, priced: bool = False) -> None:
    """Six real syncs over HTTP from the fake API, each observed at HISTORY_TIMES,
    wired as every run is (catalog_sync.runner); `priced`: with details and
    pricing on, and HISTORY_REPRICES."""
    import datetime as dt

    from catalog_sync.config import ApiConfig, Config, DetailsConfig, PricingConfig
    from catalog_sync.errors import PayloadError
    from catalog_sync.runner.runs import sync_once

    config = Config(
        api=ApiConfig(base_url=api.base_url, max_retries=0, max_requests_per_minute=100_000),
        details=DetailsConfig(enabled=priced, refresh_hours=480),
        pricing=PricingConfig(enabled=priced, refresh_hours=480),
    )
    engine = make_engine(db_url)
    try:
        for run, document in history_catalogs().items():
            if isinstance(document, bytes):
                api.serve_body(document)
            else:
                api.set_catalog(document)
            for name, factor, where in HISTORY_REPRICES.get(run, []) if priced else []:
                api.pricing.reprice(name, factor, **where)
            moment = dt.datetime.fromisoformat(HISTORY_TIMES[run]).replace(tzinfo=dt.UTC)
            try:
                sync_once(config, engine, api.api_key, clock=lambda moment=moment: moment)
            except PayloadError:
                assert run == 4
    finally:
        engine.dispose()


def catch_up(api: FakeHooxApi, *, priced: bool = False) -> None:
    """The fake as `build_history` leaves it (its last catalog served, its
    re-pricings applied), for a test that copied the built history."""
    *_, last = history_catalogs().values()
    assert not isinstance(last, bytes)
    api.set_catalog(last)
    for reprices in HISTORY_REPRICES.values() if priced else ():
        for name, factor, where in reprices:
            api.pricing.reprice(name, factor, **where)
