"""`catalog-sync schedule`: trigger wiring, and the scheduler as a real process."""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from support.harness import Harness
from support.processes import CliProcess

from catalog_sync.config import ScheduleConfig
from catalog_sync.errors import UsageError
from catalog_sync.flows.scheduler import build_scheduler, cron_trigger, crontab_days


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1", "mon"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1/2", "mon,wed,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("5-7", "sun,fri,sat"),
    ],
)
def test_day_of_week_keeps_crontab_meaning(field: str, names: str) -> None:
    assert crontab_days(field) == names


def test_monday_means_monday() -> None:
    trigger = cron_trigger(ScheduleConfig(cron="30 9 * * 1", timezone="UTC"))
    sunday = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    fire = trigger.get_next_fire_time(None, sunday)
    assert fire == dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    assert fire.weekday() == 0


def test_every_minute_fires_every_minute() -> None:
    trigger = cron_trigger(ScheduleConfig(cron="* * * * *", timezone="Europe/Paris"))
    now = dt.datetime(2026, 11, 24, 10, 0, 30, tzinfo=dt.UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + dt.timedelta(microseconds=1))
    assert first == dt.datetime(2026, 11, 24, 10, 1, tzinfo=dt.UTC)
    assert second - first == dt.timedelta(minutes=1)


def test_the_scheduler_wires_the_configured_trigger() -> None:
    config = ScheduleConfig(cron="*/5 * * * *", timezone="UTC", jitter_seconds=7)
    scheduler = build_scheduler(config, lambda: None, run_now=True)
    scheduler.start(paused=True)
    try:
        (job,) = scheduler.get_jobs()
    finally:
        scheduler.shutdown(wait=False)
    assert job.trigger.jitter == 7
    assert str(job.trigger.fields[6]) == "*/5"  # the minute field
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.next_run_time is not None  # --run-now: due immediately
    assert abs(job.next_run_time - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=30)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 * * *", "must have 5 fields"),
        ("61 * * * *", "is not a valid crontab"),
        ("0 * * * funday", "is not a valid crontab"),
    ],
)
def test_bad_cron_is_refused_naming_it(cron: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        cron_trigger(ScheduleConfig(cron=cron))
    assert "schedule.cron" in str(info.value)


def test_bad_expression_or_zone_is_exit_2_before_starting(harness: Harness) -> None:
    harness.settings = {"schedule": {"cron": "every hour"}}
    result = harness.cli("schedule")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: schedule.cron 'every hour'")
    harness.settings = {"schedule": {"timezone": "Mars/Olympus"}}
    result = harness.cli("schedule")
    assert result.exit_code == 2
    assert "schedule.timezone 'Mars/Olympus'" in result.stderr
    assert harness.api.request_count == 0


def scheduler_process(h: Harness, *args: str) -> CliProcess:
    return CliProcess(["--config", str(h.config_path), "schedule", *args], env=h.env())


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_run_now_then_stop_with_a_signal(harness: Harness, stop_with: signal.Signals) -> None:
    process = scheduler_process(harness, "--run-now")
    line = process.wait_for_line("finished: sync ok")
    assert "[run 1]" in line
    next_line = process.wait_for_line("next run at")
    next_run = dt.datetime.fromisoformat(next_line.rsplit("next run at ", 1)[1].strip())
    assert next_run.minute == 0 and next_run.second == 0  # hourly by default
    process.proc.send_signal(stop_with)
    assert process.finish() == 0
    assert any("scheduler stopped" in line for line in process.lines)
    assert harness.rows("SELECT status, trigger FROM sync_runs") == [("success", "schedule")]


def test_a_failing_api_does_not_kill_the_scheduler(harness: Harness) -> None:
    harness.settings = {"api": {"max_retries": 0}, "schedule": {"run_on_start": True}}
    harness.api.fail_next(500, times=100)
    process = scheduler_process(harness)
    process.wait_for_line("run failed")
    process.wait_for_line("next run at")
    assert process.proc.poll() is None
    process.proc.send_signal(signal.SIGTERM)
    assert process.finish() == 0
    assert harness.rows("SELECT status, trigger FROM sync_runs") == [("failed", "schedule")]


@pytest.mark.slow
def test_a_real_cron_minute(harness: Harness) -> None:
    """The real clock, once: every minute, no --run-now: the first run comes at the
    next minute boundary (the default run checks the triggers with given times)."""
    if not harness.db_url.startswith("sqlite"):
        pytest.skip("the clock is the scheduler's; one backend is enough for a minute's wait")
    harness.settings = {"schedule": {"cron": "* * * * *", "timezone": "UTC", "jitter_seconds": 0}}
    process = scheduler_process(harness)
    started = process.wait_for_line("scheduler started")
    first = dt.datetime.fromisoformat(started.rsplit("first run at ", 1)[1].strip())
    assert first.second == 0 and first.microsecond == 0
    process.wait_for_line("finished: sync ok", timeout=90)
    assert dt.datetime.now(dt.UTC) >= first
    process.proc.send_signal(signal.SIGTERM)
    assert process.finish() == 0
    assert harness.rows("SELECT status, trigger FROM sync_runs") == [("success", "schedule")]
