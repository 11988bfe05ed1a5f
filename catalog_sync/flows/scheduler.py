"""`catalog-sync schedule`: APScheduler 3 around run_sync; no business logic.

One job, on a cron trigger: missed runs are coalesced into one, at most one
instance runs at a time (and the database lock keeps it apart from cron's
`sync`). SIGTERM/SIGINT stop it: a run in flight gets a few seconds to commit
or roll back, and the process exits 0.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from catalog_sync.config import ScheduleConfig
from catalog_sync.errors import CatalogSyncError, LockBusy, UsageError

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

JOB_ID = "sync"
STOP_GRACE_SECONDS = 5.0
_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def timezone_of(schedule: ScheduleConfig) -> ZoneInfo:
    try:
        return ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(
            f"schedule.timezone {schedule.timezone!r} is not a known time zone"
        ) from exc


def cron_trigger(schedule: ScheduleConfig) -> CronTrigger:
    """The trigger for `schedule.cron`, read with crontab's meaning (0 and 7 are Sunday)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = schedule.cron.split()
    if len(fields) != 5:
        raise UsageError(
            f"schedule.cron {schedule.cron!r} must have 5 fields "
            "(minute hour day-of-month month day-of-week)"
        )
    minute, hour, day, month, day_of_week = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_days(day_of_week),
            timezone=timezone_of(schedule),
            jitter=round(schedule.jitter_seconds) or None,
        )
    except ValueError as exc:
        raise UsageError(f"schedule.cron {schedule.cron!r} is not a valid crontab: {exc}") from exc


def crontab_days(field: str) -> str:
    """Crontab's day-of-week field as APScheduler 3 day names.

    APScheduler 3 numbers days from Monday = 0, crontab from Sunday = 0 (and 7),
    so numbers are expanded to names here rather than passed through.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit():
            raise ValueError(f"bad step in day-of-week {field!r}")
        if span == "*":
            first, last = 0, 6
        else:
            start, _, end = span.partition("-")
            first = _day_number(start, field)
            last = _day_number(end, field) if end else (6 if step_text else first)
        if last == 0 and first > 0:
            last = 7
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _day_number(token: str, field: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(token[:3])
    raise ValueError(f"bad day-of-week {field!r}")


def build_scheduler(
    schedule: ScheduleConfig, job: Callable[[], None], *, run_now: bool
) -> BackgroundScheduler:
    """The scheduler with its one job; not started."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.schedulers.background import BackgroundScheduler

    trigger = cron_trigger(schedule)
    tz = timezone_of(schedule)
    scheduler = BackgroundScheduler(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    extra = {"next_run_time": dt.datetime.now(tz)} if run_now else {}
    scheduler.add_job(job, trigger, id=JOB_ID, name="catalog-sync sync", **extra)

    def log_next(_event: object) -> None:
        scheduled = scheduler.get_job(JOB_ID)
        if scheduled is not None and scheduled.next_run_time is not None:
            log.info("next run at %s", scheduled.next_run_time.isoformat())

    scheduler.add_listener(log_next, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def run_forever(schedule: ScheduleConfig, run_once: Callable[[], object], *, run_now: bool) -> bool:
    """Run `run_once` on the schedule until SIGTERM or SIGINT.

    Returns False after a clean stop, True when a run was still in flight after
    STOP_GRACE_SECONDS: the caller should then end the process (its transaction
    is rolled back), which a library function must not do itself."""
    stop = threading.Event()
    idle = threading.Event()
    idle.set()

    def job() -> None:
        idle.clear()
        try:
            run_once()
        except LockBusy as exc:
            log.warning("skipped this run: %s", exc)
        except CatalogSyncError as exc:
            log.error("run failed: %s", exc)
        except Exception:
            log.exception("unexpected error in a scheduled run")
        finally:
            idle.set()

    scheduler = build_scheduler(schedule, job, run_now=run_now)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        scheduled = scheduler.get_job(JOB_ID)
        if scheduled is not None and scheduled.next_run_time is not None:
            log.info(
                "scheduler started: cron %r (%s); first run at %s",
                schedule.cron,
                schedule.timezone,
                scheduled.next_run_time.isoformat(),
            )
        stop.wait()
        scheduler.shutdown(wait=False)
        if not idle.wait(STOP_GRACE_SECONDS):
            log.warning(
                "a run is still in flight after %.0f s; exiting: its transaction is rolled back",
                STOP_GRACE_SECONDS,
            )
            return True
        log.info("scheduler stopped")
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
