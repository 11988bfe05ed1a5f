"""`catalog-sync status`: what monitoring needs to know, from the database alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select

from catalog_sync.alert_rules import AlertRule
from catalog_sync.analysts.alerts import failing_rules
from catalog_sync.storage.schema import CostPeriod, Model, ModelDetails, PricePoint, SyncRun

_RUN_FIELDS = (
    "id",
    "status",
    "trigger",
    "started_at",
    "finished_at",
    "models_seen",
    "models_added",
    "models_updated",
    "models_removed",
    "models_restored",
    "price_changes",
    "error",
)


@dataclass(frozen=True)
class Status:
    last_run: dict[str, Any] | None
    last_success: dict[str, Any] | None
    active_models: int
    open_price_periods: int
    problems: tuple[str, ...]
    # With details enabled (a model_details row exists): how many models have
    # details, which ones failed last time (name, error; retried on the next run),
    # and how many price points are open. Local failures: not problems.
    details: int | None = None
    details_failing: tuple[tuple[str, str], ...] = ()
    open_price_points: int | None = None
    # [[alerts]] rules whose last delivery failed: (rule, error, fired_at). Told,
    # not unhealthy (the runs succeeded; the rows in alerts_fired say what failed).
    alerts_failing: tuple[tuple[str, str, dt.datetime], ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        def encode(run: dict[str, Any] | None) -> dict[str, Any] | None:
            if run is None:
                return None
            return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in run.items()}

        return {
            "healthy": self.healthy,
            "problems": list(self.problems),
            "last_run": encode(self.last_run),
            "last_success": encode(self.last_success),
            "active_models": self.active_models,
            "open_price_periods": self.open_price_periods,
            "details": None
            if self.details is None
            else {
                "models": self.details,
                "failing": [{"model": n, "error": e} for n, e in self.details_failing],
                "open_price_points": self.open_price_points,
            },
            "alerts_failing": [
                {"alert": name, "error": error, "fired_at": at.isoformat()}
                for name, error, at in self.alerts_failing
            ],
        }


def read_status(
    engine: Engine,
    *,
    now: dt.datetime,
    max_age: dt.timedelta | None,
    rules: Sequence[AlertRule] = (),
) -> Status:
    """Read the last runs and current counts; judge health (never writes);
    `rules`: the configured alerts, told when their last delivery failed."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("sync_runs"):
            return Status(None, None, 0, 0, ("no run recorded yet (empty database)",))
        columns = [getattr(SyncRun, name) for name in _RUN_FIELDS]
        last = connection.execute(
            select(*columns).where(SyncRun.status != "running").order_by(SyncRun.id.desc())
        ).first()
        success = connection.execute(
            select(*columns).where(SyncRun.status == "success").order_by(SyncRun.id.desc())
        ).first()
        active = connection.scalar(
            select(func.count()).select_from(Model).where(Model.removed_at.is_(None))
        )
        open_periods = connection.scalar(
            select(func.count()).select_from(CostPeriod).where(CostPeriod.valid_to.is_(None))
        )
        details = _details_state(connection)
        alerts_failing = tuple(failing_rules(connection, rules))
    last_run = last._asdict() if last else None
    last_success = success._asdict() if success else None
    problems: list[str] = []
    if last_run is None:
        problems.append("no run recorded yet")
    elif last_run["status"] != "success":
        problems.append(
            f"the last run ({last_run['id']}) {last_run['status']}: {last_run['error']}"
        )
    if last_run is not None and last_success is None:
        problems.append("no successful run yet")
    if last_success is not None and max_age is not None:
        age = now - last_success["finished_at"]
        if age > max_age:
            problems.append(
                f"the last success ({last_success['id']}) is {_human(age)} old, "
                f"more than --max-age {_human(max_age)}"
            )
    count, failing, points = details
    return Status(
        last_run,
        last_success,
        active or 0,
        open_periods or 0,
        tuple(problems),
        details=count,
        details_failing=failing,
        open_price_points=points,
        alerts_failing=alerts_failing,
    )


def _details_state(
    connection: Connection,
) -> tuple[int | None, tuple[tuple[str, str], ...], int | None]:
    """(models with details, the failing ones with their errors, open price
    points), or Nones when details were never enabled (or the schema predates them)."""
    if not inspect(connection).has_table("model_details"):
        return None, (), None
    count = connection.scalar(select(func.count()).select_from(ModelDetails)) or 0
    if not count:
        return None, (), None
    failing = connection.execute(
        select(Model.name, ModelDetails.error)
        .join(Model, Model.id == ModelDetails.model_id)
        .where(ModelDetails.error.is_not(None), Model.removed_at.is_(None))
        .order_by(Model.name)
    ).all()
    points = connection.scalar(
        select(func.count()).select_from(PricePoint).where(PricePoint.valid_to.is_(None))
    )
    return count, tuple((name, str(error)) for name, error in failing), points or 0


def render_text(status: Status) -> str:
    lines = []
    run = status.last_run
    if run:
        lines.append(
            f"last run:      {run['id']} {run['status']} ({run['trigger']}) "
            f"finished {run['finished_at']:%Y-%m-%d %H:%M:%S} UTC"
        )
    success = status.last_success
    if success:
        lines.append(
            f"last success:  {success['id']} at {success['finished_at']:%Y-%m-%d %H:%M:%S} UTC: "
            f"{success['models_seen']} seen, {success['models_added']} added, "
            f"{success['models_updated']} updated, {success['models_removed']} removed, "
            f"{success['price_changes']} price changes"
        )
    lines.append(f"active models: {status.active_models}")
    lines.append(f"open price periods: {status.open_price_periods}")
    if status.details is not None:
        lines.append(
            f"model details: {status.details} models, {status.open_price_points} open price points"
        )
        if status.details_failing:
            shown = ", ".join(name for name, _ in status.details_failing[:5])
            more = len(status.details_failing) - 5
            lines.append(
                f"details failing: {len(status.details_failing)} ({shown}"
                + (f", {more} more" if more > 0 else "")
                + "; retried next run; the errors: --format json or model_details.error)"
            )
    for name, error, at in status.alerts_failing:
        lines.append(f"alert failing: {name!r} at {at:%Y-%m-%d %H:%M:%S} UTC: {error}")
    lines.append("health:        " + ("ok" if status.healthy else "; ".join(status.problems)))
    return "\n".join(lines)


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds}s"
