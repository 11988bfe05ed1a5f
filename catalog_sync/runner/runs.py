"""The runs a person starts, each wired once: sync (and its dry run), the
scheduler, import and rebuild. Each opens what it needs from the configuration,
runs the flow, and leaves its outputs through `runner.after`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from catalog_sync.clock import Clock, utcnow
from catalog_sync.config import Config
from catalog_sync.flows.result import SyncResult
from catalog_sync.flows.sync import run_sync
from catalog_sync.runner.after import after_run
from catalog_sync.runner.wiring import (
    NO_CHANNELS,
    Channels,
    Progress,
    enrichment,
    hoox_source,
    policy_of,
)

if TYPE_CHECKING:  # the other runs' flows are imported when run: a sync pays for none
    import httpx
    from sqlalchemy import Engine

    from catalog_sync.core.diff import ChangeSet
    from catalog_sync.flows.imports import Snapshot
    from catalog_sync.flows.rebuild import RebuildResult

ImportProgress = Callable[["Snapshot", str], None]


def sync_once(
    config: Config,
    engine: Engine,
    api_key: str,
    *,
    channels: Channels = NO_CHANNELS,
    trigger: str = "cli",
    allow_mass_removal: bool = False,
    progress: Progress | None = None,
    clock: Clock = utcnow,
    transport: httpx.BaseTransport | None = None,
) -> SyncResult:
    """One run with this configuration, and what it leaves outside the database."""
    with (
        hoox_source(config.api, api_key, transport=transport) as source,
        after_run(config, engine, channels=channels, clock=clock) as outputs,
    ):
        policy = policy_of(config, allow_mass_removal)
        result = run_sync(
            engine=engine,
            fetch=source.models,  # every request counts against the run's budget
            trigger=trigger,
            max_removed_fraction=policy.max_removed_fraction,
            allow_mass_removal=policy.allow_mass_removal,
            removal_grace_runs=policy.removal_grace_runs,
            clock=clock,
            enrich=enrichment(source, config.details, config.pricing, progress=progress),
            requests_sent=lambda: source.requests,
        )
        return outputs.announce(result)


def dry_run(
    config: Config, engine: Engine, api_key: str, *, allow_mass_removal: bool = False
) -> ChangeSet:
    """`sync --dry-run`: fetch once, and what it would change; nothing written."""
    from catalog_sync.flows.dry_run import preview_sync

    with hoox_source(config.api, api_key) as source:
        return preview_sync(engine, source.models, policy_of(config, allow_mass_removal))


def schedule(
    config: Config, engine: Engine, api_key: str, *, channels: Channels, run_now: bool
) -> None:
    """`sync` on schedule.cron in the foreground until SIGTERM or SIGINT."""
    from catalog_sync import _runtime
    from catalog_sync.flows.scheduler import cron_trigger, run_forever

    cron_trigger(config.schedule)  # a bad expression is exit 2 before anything starts
    _runtime.start_long_running()

    def run_once() -> SyncResult:
        with _runtime.one_run():
            return sync_once(config, engine, api_key, channels=channels, trigger="schedule")

    stuck = run_forever(config.schedule, run_once, run_now=run_now or config.schedule.run_on_start)
    if stuck:
        engine.dispose()
        _runtime.fast_exit(0)  # a run still in flight: its transaction is rolled back


def import_files(
    config: Config,
    engine: Engine,
    snapshots: Sequence[Snapshot],
    *,
    channels: Channels = NO_CHANNELS,
    archive_only: bool = False,
    allow_mass_removal: bool = False,
    progress: ImportProgress | None = None,
) -> list[tuple[Snapshot, SyncResult | None]]:
    """Saved snapshots applied in time order (or only archived), one run each;
    no digest (an import is history), but the alerts over all its runs."""
    from catalog_sync.flows.imports import import_snapshots

    with after_run(config, engine, channels=channels, digest=False) as outputs:
        return import_snapshots(
            engine=engine,
            snapshots=snapshots,
            policy=policy_of(config, allow_mass_removal),
            archive_only=archive_only,
            progress=progress,
            announce=outputs.announce,  # committed runs fire their alerts, whatever follows
        )


def rebuild_history(
    config: Config, engine: Engine, *, progress: Callable[[int, int], None] | None = None
) -> RebuildResult:
    """Every derived table recomputed from the archive, in one transaction."""
    from catalog_sync.flows.rebuild import rebuild

    with after_run(config, engine):
        return rebuild(engine, removal_grace_runs=config.sync.removal_grace_runs, progress=progress)
