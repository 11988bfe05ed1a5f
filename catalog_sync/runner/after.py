"""Everything a run leaves outside the database, in one visible place.

After a run (sync, scheduled, import, rebuild), in this order:

1. the digest of a successful sync to the webhook and the chat channels
   (`flows.notify`; its outcome is kept in `sync_runs.notify_error`);
2. the `[[alerts]]` rules over the successful runs' changes (`flows.alerts`;
   one message per rule to its channels, the outcome in `alerts_fired`);
3. the metrics textfile ([metrics] textfile), whatever the outcome;
4. the feed ([feed] path), after a success.

An attempt that found the lock busy writes nothing: the run holding it does
when it ends. A side output that fails is a line in the log, never the run's
outcome (the run is recorded already).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from catalog_sync.clock import Clock, utcnow
from catalog_sync.config import Config
from catalog_sync.errors import LockBusy
from catalog_sync.flows.result import SyncResult
from catalog_sync.runner.wiring import NO_CHANNELS, Channels

log = logging.getLogger("catalog_sync")


@dataclass
class RunOutputs:
    """What the run inside `after_run` hands over: its results to announce."""

    results: list[SyncResult] = field(default_factory=list)

    def announce(self, result: SyncResult) -> SyncResult:
        self.results.append(result)
        return result


@contextlib.contextmanager
def after_run(
    config: Config,
    engine: Engine,
    *,
    channels: Channels = NO_CHANNELS,
    digest: bool = True,
    clock: Clock = utcnow,
) -> Iterator[RunOutputs]:
    """Around one run: the digest of each announced result (unless not
    `digest`), the alerts over them all, then the metrics textfile and (after a
    success) the feed."""
    started_at = clock()
    outputs = RunOutputs()
    try:
        yield outputs
    except LockBusy:
        raise
    except BaseException:
        _alerts(config, engine, outputs, channels, clock)  # the runs committed before it
        _side_files(config, engine, succeeded=False, started_at=started_at, now=clock())
        raise
    send = channels.sender(config) if digest else None
    for result in outputs.results:
        if send is None:
            break
        from catalog_sync.flows.notify import notify_run

        notify_run(
            engine,
            result.changes,
            run_id=result.run_id,
            observed_at=result.observed_at,
            send=send,
            clock=clock,
            points=result.repriced_points,
        )
    _alerts(config, engine, outputs, channels, clock)
    _side_files(config, engine, succeeded=True, started_at=started_at, now=clock())


def _alerts(
    config: Config, engine: Engine, outputs: RunOutputs, channels: Channels, clock: Clock
) -> None:
    """The rules over the announced (committed, successful) runs' changes."""
    if config.alerts and outputs.results:
        from catalog_sync.flows.alerts import fire_alerts

        runs = [result.run_id for result in outputs.results]
        senders = channels.alert_senders(config)
        fire_alerts(engine, config.alerts, runs, senders=senders, clock=clock)


def _side_files(
    config: Config, engine: Engine, *, succeeded: bool, started_at: dt.datetime, now: dt.datetime
) -> None:
    # Imported only when configured: a plain sync pays for neither at start-up.
    if config.metrics.textfile:
        from catalog_sync.analysts.metrics import write_textfile

        textfile = Path(config.metrics.textfile)
        failed_since = None if succeeded else started_at
        _logged(
            "metrics textfile",
            lambda: write_textfile(engine, textfile, now=now, failed_since=failed_since),
        )
    if succeeded and config.feed.path:
        from catalog_sync.analysts.feed import write_feed

        feed = Path(config.feed.path)
        alerts = [rule.name for rule in config.alerts if rule.feed]
        _logged("feed", lambda: write_feed(engine, feed, now=now, alerts=alerts))


def _logged(what: str, write: Callable[[], object]) -> None:
    try:
        write()
    except Exception as exc:  # a side file must never hide the run's outcome
        log.error("could not write the %s: %s", what, exc)
