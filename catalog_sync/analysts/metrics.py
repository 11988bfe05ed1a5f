"""Metrics for Prometheus, from the database alone: the textfile that `[metrics]
textfile` has rewritten after every run (for node_exporter's textfile collector),
and the text `catalog-sync status --format prometheus` prints. Both are the
exposition of one registry, built by one collector from one SQL statement.

- `catalog_sync_last_success_timestamp_seconds` is 0 while no run has succeeded
  (so that `time() - ... > limit` fires for a catalog never synced: an absent
  series would silence that alert). A failed run never moves it.
- When the database cannot be read at all (the run's failure may be just that),
  the textfile still says the last run failed, now, and keeps the last success
  of the file it replaces; the figures only the database knows are left out, and
  `catalog_sync_database_up` is 0.
- The counters have no `_created` samples: they are sums over `sync_runs`, which
  is never pruned, not counts this process made.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import UNDERSCORES
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, case, func, inspect, null, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from catalog_sync.errors import first_line
from catalog_sync.files import write_atomically
from catalog_sync.storage.schema import Model, SyncRun

log = logging.getLogger(__name__)

LAST_SUCCESS = "catalog_sync_last_success_timestamp_seconds"
LAST_RUN = "catalog_sync_last_run_timestamp_seconds"
LAST_RUN_SUCCESS = "catalog_sync_last_run_success"
LAST_RUN_DURATION = "catalog_sync_last_run_duration_seconds"
MODELS = "catalog_sync_models"
PRICE_CHANGES = "catalog_sync_price_changes_total"
REQUESTS = "catalog_sync_requests_total"
DATABASE_UP = "catalog_sync_database_up"

# The promised names, in the order they are exposed.
NAMES = (
    LAST_SUCCESS,
    LAST_RUN,
    LAST_RUN_SUCCESS,
    LAST_RUN_DURATION,
    MODELS,
    PRICE_CHANGES,
    REQUESTS,
)


@dataclass(frozen=True)
class LastRun:
    finished_at: dt.datetime
    success: bool
    duration_seconds: float | None


@dataclass(frozen=True)
class Metrics:
    """What the metrics say; None: not known (the sample is left out)."""

    last_success: dt.datetime | None  # None: no run succeeded yet (exposed as 0)
    last_run: LastRun | None  # None: no finished run recorded
    models: int | None
    price_changes: int | None
    requests: int | None
    database_up: bool
    # The last success as kept from the previous textfile (epoch seconds), when
    # the database could not say.
    kept_last_success: float | None = None


def read_metrics(engine: Engine) -> Metrics:
    """The metrics as the database holds them, in one statement (one snapshot);
    raises SQLAlchemyError when it cannot be read."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        if not inspector.has_table(SyncRun.__tablename__):
            return Metrics(None, None, None, None, None, database_up=True)
        columns = {c["name"] for c in inspector.get_columns(SyncRun.__tablename__)}
        # `requests` arrived with migration 0010; `status` reads older schemas too.
        requests = SyncRun.requests if "requests" in columns else null()
        finished = SyncRun.status != "running"
        runs = select(
            func.max(case((SyncRun.status == "success", SyncRun.finished_at))).label(
                "last_success"
            ),
            func.max(case((finished, SyncRun.id))).label("last_id"),
            func.sum(case((SyncRun.status == "success", SyncRun.price_changes))).label(
                "price_changes"
            ),
            func.sum(requests).label("requests"),
        ).subquery("runs")
        last = aliased(SyncRun, name="last_run")
        active = (
            select(func.count())
            .select_from(Model)
            .where(Model.removed_at.is_(None))
            .scalar_subquery()
        )
        row = connection.execute(
            select(
                runs.c.last_success,
                runs.c.price_changes,
                runs.c.requests,
                last.status,
                last.started_at,
                last.finished_at,
                active.label("models"),
            )
            .select_from(runs)
            .outerjoin(last, last.id == runs.c.last_id)
        ).one()
    last_run = None
    if row.status is not None and row.finished_at is not None:
        duration = (row.finished_at - row.started_at).total_seconds()
        last_run = LastRun(row.finished_at, row.status == "success", max(duration, 0.0))
    return Metrics(
        last_success=row.last_success,
        last_run=last_run,
        models=int(row.models or 0),
        price_changes=int(row.price_changes or 0),
        requests=int(row.requests or 0),
        database_up=True,
    )


def render_metrics(engine: Engine) -> bytes:
    """The exposition text (Prometheus text format 0.0.4) of the database's metrics,
    as `status --format prometheus` prints it; raises when it cannot be read."""
    return generate_latest(registry_of(read_metrics(engine)), UNDERSCORES)


def write_textfile(
    engine: Engine, path: Path, *, now: dt.datetime, failed_since: dt.datetime | None = None
) -> None:
    """Replace `path` atomically (a temporary file beside it, then a rename) with the
    metrics after a run; written even when the database cannot be read.

    `failed_since`: the run that just ended failed, and started then; when the
    database shows no run finished since (it failed before its sync_runs row was
    written, e.g. the schema could not be upgraded), the textfile says a run
    failed now rather than repeat an older run's outcome."""
    try:
        metrics = read_metrics(engine)
    except SQLAlchemyError as exc:
        log.warning(
            "metrics: the database cannot be read (%s); the textfile says the last run failed",
            first_line(exc),
        )
        metrics = Metrics(None, None, None, None, None, database_up=False)
    if (
        failed_since is not None
        and metrics.last_run is not None
        and metrics.last_run.finished_at < failed_since
    ):
        metrics = replace(metrics, last_run=None)
    if metrics.last_run is None:
        # Called after a run that the database does not show as finished (it could
        # not be read, or not recorded): that run failed, now.
        metrics = replace(metrics, last_run=LastRun(now, success=False, duration_seconds=None))
        if metrics.last_success is None:
            metrics = replace(metrics, kept_last_success=previous_last_success(path))
    write_atomically(path, generate_latest(registry_of(metrics), UNDERSCORES))


def previous_last_success(path: Path) -> float | None:
    """The last success an existing textfile says (None: no file, or none in it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        for family in text_string_to_metric_families(text):
            if family.name == LAST_SUCCESS:
                for sample in family.samples:
                    if sample.name == LAST_SUCCESS:
                        return float(sample.value)
    except ValueError as exc:
        log.warning("metrics: the previous textfile %s does not parse: %s", path, exc)
    return None


def registry_of(metrics: Metrics) -> CollectorRegistry:
    """A registry of its own (never the process-wide default) holding `metrics`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics))
    return registry


@dataclass(frozen=True)
class _Collector:
    metrics: Metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        if m.last_success is not None:
            last_success = m.last_success.timestamp()
        else:
            last_success = m.kept_last_success or 0.0
        yield GaugeMetricFamily(
            LAST_SUCCESS,
            "Unix time (seconds, UTC) when the newest successful catalog sync finished "
            "(sync_runs.finished_at); 0 when no run has succeeded yet. Failed and refused "
            "runs never move it.",
            value=last_success,
        )
        if m.last_run is not None:
            yield GaugeMetricFamily(
                LAST_RUN,
                "Unix time (seconds, UTC) when the newest finished run ended, whatever its "
                "outcome (success, failed, refused); the time of the attempt when the "
                "database could not be read.",
                value=m.last_run.finished_at.timestamp(),
            )
            yield GaugeMetricFamily(
                LAST_RUN_SUCCESS,
                "1 when the newest finished run succeeded, 0 when it failed or was refused "
                "(or the database could not be read).",
                value=1.0 if m.last_run.success else 0.0,
            )
            if m.last_run.duration_seconds is not None:
                yield GaugeMetricFamily(
                    LAST_RUN_DURATION,
                    "Seconds the newest finished run took (finished_at - started_at).",
                    value=m.last_run.duration_seconds,
                )
        if m.models is not None:
            yield GaugeMetricFamily(
                MODELS,
                "Models the catalog currently lists (models with removed_at NULL).",
                value=m.models,
            )
        if m.price_changes is not None:
            yield CounterMetricFamily(
                PRICE_CHANGES,
                "Base-cost changes recorded by successful runs (sum of "
                "sync_runs.price_changes; sync_runs is append-only, only `rebuild` "
                "recounts it, which reads as a counter reset).",
                value=m.price_changes,
            )
        if m.requests is not None:
            yield CounterMetricFamily(
                REQUESTS,
                "HTTP requests sent to the Hoox API by all runs, retries included "
                "(sum of sync_runs.requests; runs from before it was counted add 0).",
                value=m.requests,
            )
        yield GaugeMetricFamily(
            DATABASE_UP,
            "1 when these metrics were read from the database, 0 when it could not be "
            "read (then only the last run's failure and the kept last success are told).",
            value=1.0 if m.database_up else 0.0,
        )
