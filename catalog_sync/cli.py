"""The command line: parse options, build dependencies, call the core, render.

Exit codes: 0 success, 1 run failed, 2 usage/config error, 3 refused by a
safety guard, 4 database lock busy. Errors are one `error:` line on stderr;
`--debug` adds the traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from catalog_sync import __version__
from catalog_sync.config import Config, load_config, require_api_key, webhook_url
from catalog_sync.errors import CatalogSyncError, StoreError, UsageError
from catalog_sync.logs import configure_logging

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from catalog_sync.diff import ChangeSet
    from catalog_sync.service import Policy, SyncResult

log = logging.getLogger("catalog_sync")
T = TypeVar("T")


@dataclass
class AppContext:
    """What the group callback parsed; commands build what they need from it."""

    config_path: str | None
    debug: bool
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, os.environ)
        return self._config


class CatalogSyncGroup(click.Group):
    """Maps errors to exit codes and one `error:` line, for every entry point."""

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        extra.pop("standalone_mode", None)
        try:
            super().main(args=argv, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except CatalogSyncError as exc:
            _report(exc, debug="--debug" in argv)
            sys.exit(exc.exit_code)
        except Exception as exc:
            _report(exc, debug="--debug" in argv, prefix="unexpected error: ")
            sys.exit(1)
        sys.exit(0)


def _report(exc: BaseException, *, debug: bool, prefix: str = "") -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    message = " ".join(str(exc).split()) or type(exc).__name__
    click.echo(f"error: {prefix}{message}", err=True)


def format_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "csv", "json"]),
        default="table",
        show_default=True,
        help="An aligned table for the terminal, or CSV / JSON on stdout for machines.",
    )(function)


@click.group(cls=CatalogSyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (else $CATALOG_SYNC_CONFIG, else ./config.toml, else defaults).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress (INFO) to stderr.")
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks on errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines for humans, or JSON lines for log shippers.",
)
@click.version_option(__version__, prog_name="catalog-sync")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, verbose: bool, debug: bool, log_format: str
) -> None:
    """Keep a SQL copy of the Hoox asset-model catalog and its price history.

    \b
    Exit codes: 0 success, 1 run failed (nothing applied), 2 usage or
    configuration error, 3 refused by a safety guard, 4 database lock busy.
    """
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    configure_logging(level=level, fmt=log_format)
    ctx.obj = AppContext(config_path=config_path, debug=debug)


def mass_removal_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--allow-mass-removal",
        is_flag=True,
        help="Apply the catalog even if it removes more than sync.max_removed_fraction "
        "of the active models.",
    )(function)


def dry_run_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Validate and diff, print exactly what would change, write nothing at all.",
    )(function)


@cli.command()
@mass_removal_option
@dry_run_option
@click.pass_obj
def sync(app: AppContext, allow_mass_removal: bool, dry_run: bool) -> None:
    """Fetch the catalog once and apply its changes (upgrading the schema first).

    Needs the API key in env HOOX_API_KEY. Prints one summary line.
    """
    from catalog_sync.db import make_engine

    config = app.config()
    api_key = require_api_key(os.environ)
    webhook = None if dry_run else webhook_url(config, os.environ)
    engine = make_engine(config.database.url)
    try:
        if dry_run:
            from catalog_sync.client import build_client, fetch_catalog
            from catalog_sync.service import preview

            with build_client(config.api) as client:
                body = fetch_catalog(client, config.api, api_key).body
            _print_preview(preview(engine, [body], _policy(config, allow_mass_removal)))
            return
        result = _sync_once(
            config, engine, api_key, webhook, trigger="cli", allow_mass_removal=allow_mass_removal
        )
    finally:
        engine.dispose()
    click.echo(result.summary())


def _policy(config: Config, allow_mass_removal: bool) -> Policy:
    from catalog_sync.service import Policy

    return Policy(config.sync.max_removed_fraction, allow_mass_removal)


def _print_preview(changesets: Sequence[ChangeSet]) -> None:
    """Print every change a dry run found, then its summary line."""
    from catalog_sync.render import describe_changes

    for changes in changesets:
        for line in describe_changes(changes):
            click.echo(line)
        c = changes.counts()
        click.echo(
            f"dry run: {c['models_seen']} models seen, {c['models_added']} added, "
            f"{c['models_updated']} updated, {c['models_removed']} removed, "
            f"{c['models_restored']} restored, {c['price_changes']} price changes; "
            "nothing was written"
        )


@cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--observed-at",
    metavar="WHEN",
    help="When the snapshot was taken (one file only); else read from each file name.",
)
@click.option(
    "--archive-only",
    is_flag=True,
    help="Only store the snapshots and their times in the archive, for `rebuild`.",
)
@mass_removal_option
@dry_run_option
@click.pass_obj
def import_command(
    app: AppContext,
    *,
    files: tuple[Path, ...],
    observed_at: str | None,
    archive_only: bool,
    allow_mass_removal: bool,
    dry_run: bool,
) -> None:
    """Backfill from saved snapshots (JSON bodies of the List Models endpoint).

    Each file's observation time comes from --observed-at (one file), else from
    an ISO timestamp in its name (catalog-2026-11-01T06-00-00Z.json). Files are
    validated like a fetched payload and applied in time order. A snapshot not
    newer than the newest recorded observation is refused; import older ones
    with --archive-only, then run `catalog-sync rebuild`.
    """
    from catalog_sync.db import make_engine
    from catalog_sync.service import Snapshot, import_snapshots, preview_import
    from catalog_sync.timeparse import moment_in_name, parse_moment

    if observed_at is not None and len(files) > 1:
        raise UsageError("--observed-at applies to one file; name the others by their time")
    snapshots = []
    for path in files:
        moment = (
            parse_moment(observed_at, now=_now(), option="--observed-at")
            if observed_at
            else moment_in_name(path.name)
        )
        if moment is None:
            raise UsageError(
                f"{path}: no timestamp in the file name; give it with --observed-at "
                "or rename the file (e.g. catalog-2026-11-01T06-00-00Z.json)"
            )
        snapshots.append(Snapshot(path=path, body=path.read_bytes(), observed_at=moment))
    config = app.config()
    policy = _policy(config, allow_mass_removal)
    engine = make_engine(config.database.url)
    try:
        if dry_run:
            for snapshot, changes in preview_import(
                engine, snapshots, policy, archive_only=archive_only
            ):
                click.echo(f"== {snapshot.path} ({snapshot.observed_at:%Y-%m-%d %H:%M:%S} UTC)")
                _print_preview([changes])
            return
        with _progress_bar("importing") as update:
            done = 0

            def progress(snapshot: Snapshot, outcome: str) -> None:
                nonlocal done
                done += 1
                update(done, len(snapshots))
                log.info("%s: %s", snapshot.path, outcome)

            results = import_snapshots(
                engine=engine,
                snapshots=snapshots,
                policy=policy,
                archive_only=archive_only,
                progress=progress,
            )
    finally:
        engine.dispose()
    for snapshot, result in results:
        when = f"{snapshot.observed_at:%Y-%m-%dT%H:%M:%SZ}"
        if result is None:
            click.echo(f"{snapshot.path} ({when}): skipped, already imported")
        elif archive_only:
            click.echo(f"{snapshot.path} ({when}): archived (run {result.run_id})")
        else:
            click.echo(f"{snapshot.path} ({when}): {result.summary('import ok')}")


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """`update(done, total)` for a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@cli.command()
@click.pass_obj
def rebuild(app: AppContext) -> None:
    """Recompute every derived table from the archived payloads, in one transaction.

    Replays the payloads of successful (and archived-only) runs in observation
    order, under the database lock; the result equals the incremental history.
    Use it after a bug fix, or after `import --archive-only` of older snapshots.
    """
    from catalog_sync.db import make_engine
    from catalog_sync.rebuild import rebuild as rebuild_history

    engine = make_engine(app.config().database.url)
    try:
        with _progress_bar("rebuilding") as update:
            result = rebuild_history(engine, progress=update)
    finally:
        engine.dispose()
    click.echo(
        f"rebuilt from {result.runs} runs ({result.payloads} payloads): {result.models} models, "
        f"{result.periods} cost periods, {result.changes} changes"
    )


@cli.group(invoke_without_command=True)
@format_option
@click.pass_context
def payloads(ctx: click.Context, output_format: str) -> None:
    """List the archived payloads (every body fetched or imported)."""
    if ctx.invoked_subcommand is not None:
        return
    from catalog_sync.archive import list_payloads
    from catalog_sync.render import emit

    rows = _read(ctx.obj, lambda connection: _in_session(connection, list_payloads))
    emit(
        rows, ["sha256", "first_seen_at", "size", "stored_size", "runs", "last_run"], output_format
    )


@payloads.command("show")
@click.argument("sha")
@click.pass_obj
def payloads_show(app: AppContext, sha: str) -> None:
    """Print one payload: pretty JSON, or the raw bytes when it is not JSON.

    SHA may be a unique prefix (6 characters or more).
    """
    from catalog_sync.archive import load_body, pretty, resolve_sha

    def show(connection: Connection) -> bytes:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            return pretty(load_body(session, resolve_sha(session, sha)))

    body = _read(app, show)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()


@payloads.command("prune")
@click.option("--before", required=True, metavar="WHEN", help="Payloads first seen before this.")
@click.option("--force", is_flag=True, help="Also delete payloads that `rebuild` still needs.")
@click.pass_obj
def payloads_prune(app: AppContext, before: str, force: bool) -> None:
    """Delete archived payloads first seen before WHEN (nothing else is ever deleted).

    Refuses to drop a payload a successful run was built from (rebuild needs
    it) unless --force.
    """
    from sqlalchemy.orm import Session

    from catalog_sync.archive import prune
    from catalog_sync.db import make_engine, run_lock
    from catalog_sync.timeparse import parse_moment

    moment = parse_moment(before, now=_now(), option="--before")
    engine = make_engine(app.config().database.url)
    try:
        with (
            run_lock(engine, purpose="payloads prune"),
            Session(engine) as session,
            session.begin(),
        ):
            deleted = prune(session, before=moment, force=force)
    finally:
        engine.dispose()
    click.echo(
        f"deleted {len(deleted)} payload(s) first seen before {moment:%Y-%m-%d %H:%M:%S} UTC"
    )


def _in_session(connection: Connection, query: Callable[[Session], T]) -> T:
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:
        return query(session)


def _sync_once(
    config: Config,
    engine: Engine,
    api_key: str,
    webhook: str | None,
    *,
    trigger: str,
    allow_mass_removal: bool = False,
) -> SyncResult:
    """One run with this configuration: HTTP client, notifier, then run_sync."""
    from catalog_sync.client import build_client, fetch_catalog
    from catalog_sync.service import run_sync

    notify: Callable[[dict[str, Any]], None] | None = None
    if webhook is not None:
        from catalog_sync.notify import post_digest

        def notify(digest: dict[str, Any]) -> None:
            post_digest(
                webhook,
                digest,
                timeout=config.notify.timeout_seconds,
                attempts=config.notify.max_attempts,
            )

    with build_client(config.api) as client:
        return run_sync(
            engine=engine,
            fetch=lambda: fetch_catalog(client, config.api, api_key).body,
            trigger=trigger,
            max_removed_fraction=config.sync.max_removed_fraction,
            allow_mass_removal=allow_mass_removal,
            notify=notify,
        )


@cli.command()
@click.option(
    "--run-now", is_flag=True, help="Also run once at start (like schedule.run_on_start)."
)
@click.pass_obj
def schedule(app: AppContext, run_now: bool) -> None:
    """Run `sync` on schedule.cron in the foreground, until SIGTERM or SIGINT.

    Missed runs are coalesced into one and only one run happens at a time;
    a failed run is recorded in sync_runs (trigger `schedule`) and the
    scheduler goes on. The next fire time is logged after each run.
    """
    from catalog_sync.db import make_engine
    from catalog_sync.scheduler import cron_trigger, run_forever

    config = app.config()
    api_key = require_api_key(os.environ)
    webhook = webhook_url(config, os.environ)
    cron_trigger(config.schedule)  # a bad expression is exit 2 before anything starts
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)  # a service logs its runs
    engine = make_engine(config.database.url)
    try:
        run_forever(
            config.schedule,
            lambda: _sync_once(config, engine, api_key, webhook, trigger="schedule"),
            run_now=run_now or config.schedule.run_on_start,
        )
    finally:
        engine.dispose()


@cli.command()
@click.option(
    "--max-age",
    metavar="DURATION",
    help="Unhealthy when the last success is older than this (e.g. 2h, 1d).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.pass_obj
def status(app: AppContext, max_age: str | None, output_format: str) -> None:
    """Last run, last success and its counts, active models, open price periods.

    Exit 1 when the last run failed or was refused, when nothing succeeded yet,
    or when the last success is older than --max-age; 0 otherwise. Made for
    monitoring checks.
    """
    from catalog_sync.db import make_engine
    from catalog_sync.service import utcnow
    from catalog_sync.status import read_status, render_text
    from catalog_sync.timeparse import parse_duration

    limit = parse_duration(max_age, option="--max-age") if max_age else None
    engine = make_engine(app.config().database.url)
    try:
        result = read_status(engine, now=utcnow(), max_age=limit)
    finally:
        engine.dispose()
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(render_text(result))
    if not result.healthy:
        sys.exit(1)


def _read(app: AppContext, query: Callable[[Connection], T]) -> T:
    """Run a read-only query function on the configured database."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from catalog_sync.db import make_engine
    from catalog_sync.migrate import current_revision

    engine = make_engine(app.config().database.url)
    try:
        if current_revision(engine) is None:
            raise StoreError("the database has no catalog yet; run `catalog-sync sync` first")
        with engine.connect() as connection:
            return query(connection)
    except (OperationalError, ProgrammingError) as exc:
        raise StoreError(f"database error: {str(exc.orig).strip().splitlines()[0]}") from exc
    finally:
        engine.dispose()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@cli.command()
@click.option("--type", "model_type", help="Only this type (video, image, ...).")
@click.option("--provider", help="Only this provider.")
@click.option("--tag", help="Only models with this tag.")
@click.option(
    "--capability",
    "capability_filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only models with this capability value, e.g. supported_durations=10 (repeatable).",
)
@click.option("--all", "include_removed", is_flag=True, help="Include removed models.")
@format_option
@click.pass_obj
def models(
    app: AppContext,
    *,
    model_type: str | None,
    provider: str | None,
    tag: str | None,
    capability_filters: tuple[str, ...],
    include_removed: bool,
    output_format: str,
) -> None:
    """The catalog as it is now (or every model ever seen, with --all)."""
    from catalog_sync.analytics import list_models, parse_capability_filters
    from catalog_sync.render import emit

    wanted = parse_capability_filters(capability_filters)
    rows = _read(
        app,
        lambda connection: list_models(
            connection,
            type=model_type,
            provider=provider,
            tag=tag,
            capabilities=wanted,
            include_removed=include_removed,
        ),
    )
    columns = ["name", "type", "provider", "base_cost", "has_audio", "tags", "first_seen_at"]
    if include_removed:
        columns.append("removed_at")
    emit(rows, columns, output_format)


@cli.command()
@click.argument("model_name", metavar="MODEL")
@format_option
@click.pass_obj
def history(app: AppContext, model_name: str, output_format: str) -> None:
    """One model's cost periods and every other change logged for it.

    CSV gives one row per period (record=period) and per change (record=change).
    """
    from catalog_sync.analytics import model_history
    from catalog_sync.render import emit, print_table, to_json

    found = _read(app, lambda connection: model_history(connection, model_name))
    if output_format == "json":
        click.echo(json.dumps(to_json(found), indent=2))
        return
    if output_format == "csv":
        rows = [{"record": "period", **p} for p in found["periods"]]
        rows += [{"record": "change", **c} for c in found["changes"]]
        columns = ["record", "base_cost", "valid_from", "valid_to", "changed_at", "sync_run_id"]
        emit(rows, [*columns, "kind", "field", "old_value", "new_value"], "csv")
        return
    model = found["model"]
    state = "active" if model["removed_at"] is None else "removed"
    click.echo(f"{model['name']} ({model['type']}, {model['provider']}, {state})")
    print_table(
        found["periods"],
        ["base_cost", "valid_from", "valid_to", "sync_run_id"],
        title="Cost periods",
    )
    print_table(
        found["changes"],
        ["changed_at", "sync_run_id", "kind", "field", "old_value", "new_value"],
        title="Changes",
    )


@cli.command()
@click.option("--since", metavar="WHEN", help="From this date, timestamp or duration ago (7d).")
@click.option("--until", metavar="WHEN", help="Up to (not including) this moment.")
@click.option(
    "--kind",
    type=click.Choice(["price", "added", "removed", "restored", "updated", "all"]),
    default="all",
    show_default=True,
    help="price = base-cost changes only.",
)
@format_option
@click.pass_obj
def changes(
    app: AppContext, since: str | None, until: str | None, kind: str, output_format: str
) -> None:
    """What changed in the catalog, oldest first."""
    from catalog_sync.analytics import list_changes
    from catalog_sync.render import emit
    from catalog_sync.timeparse import parse_moment

    now = _now()
    start = parse_moment(since, now=now, option="--since") if since else None
    end = parse_moment(until, now=now, option="--until") if until else None
    rows = _read(app, lambda c: list_changes(c, since=start, until=end, kind=kind))
    columns = ["changed_at", "sync_run_id", "name", "provider", "kind", "field"]
    emit(rows, [*columns, "old_value", "new_value"], output_format)


@cli.command()
@click.option(
    "--as-of",
    "as_of",
    required=True,
    metavar="WHEN",
    help="A date (2026-11-01), a timestamp, or a duration ago (30d).",
)
@click.option(
    "--compare",
    metavar="WHEN",
    help="Show only what differs between --as-of and this moment.",
)
@format_option
@click.pass_obj
def prices(app: AppContext, as_of: str, compare: str | None, output_format: str) -> None:
    """The catalog's prices at a moment, or how they differ between two moments."""
    from catalog_sync.analytics import compare_prices, prices_as_of
    from catalog_sync.render import emit
    from catalog_sync.timeparse import parse_moment

    now = _now()
    when = parse_moment(as_of, now=now, option="--as-of")
    if compare is None:
        rows = _read(app, lambda connection: prices_as_of(connection, when))
        emit(rows, ["name", "provider", "type", "base_cost"], output_format)
        return
    other = parse_moment(compare, now=now, option="--compare")
    rows = _read(app, lambda connection: compare_prices(connection, when, other))
    columns = ["name", "provider", "type", "cost_before", "cost_after", "delta", "pct_change"]
    emit(rows, [*columns, "change"], output_format)


@cli.command()
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
@click.option(
    "--days", default=30, show_default=True, help="How far back the recent-changes table goes."
)
@click.pass_obj
def report(app: AppContext, out_path: Path, days: int) -> None:
    """Write one self-contained HTML page: price charts, recent changes, summary.

    Works offline: the plotting library's script is embedded in the page.
    Needs the report extra: pip install 'catalog-sync[report]'.
    """
    from catalog_sync.report import build_report

    html = _read(app, lambda connection: build_report(connection, now=_now(), days=days))
    out_path.write_text(html, encoding="utf-8")
    click.echo(f"wrote {out_path} ({len(html) / 1024:.0f} KiB)")


@cli.group()
def db() -> None:
    """Schema migrations (alembic, wired to the package's own migrations)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    """Bring the database schema to the newest migration."""
    from catalog_sync import migrate
    from catalog_sync.db import make_engine, masked, run_lock

    config = app.config()
    engine = make_engine(config.database.url)
    try:
        with run_lock(engine, purpose="db upgrade"):
            before = migrate.current_revision(engine)
            migrate.upgrade(engine)
            after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{masked(config.database.url)}: already at revision {after} (head)")
    else:
        click.echo(f"{masked(config.database.url)}: upgraded {before or 'empty'} -> {after} (head)")


@db.command("current")
@click.pass_obj
def db_current(app: AppContext) -> None:
    """Print the database's schema revision."""
    from catalog_sync import migrate
    from catalog_sync.db import make_engine

    engine = make_engine(app.config().database.url)
    try:
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        click.echo("none (empty database; `catalog-sync db upgrade` or `sync` creates the schema)")
    else:
        state = "head" if revision == migrate.HEAD_REVISION else f"head is {migrate.HEAD_REVISION}"
        click.echo(f"{revision} ({state})")


@cli.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="SQLAlchemy URL of the empty target database (e.g. postgresql+psycopg://...).",
)
@click.pass_obj
def copy_command(app: AppContext, target_url: str) -> None:
    """Copy the whole database (all history) into another, empty database.

    Moves an existing SQLite history into PostgreSQL, for example. Ids and
    timestamps are preserved; the copy is verified by row counts. Both
    databases are locked while it runs.
    """
    from catalog_sync.db import make_engine, masked, run_lock
    from catalog_sync.transfer import copy_database

    source = make_engine(app.config().database.url)
    target = make_engine(target_url)
    try:
        with run_lock(source, purpose="copy"), run_lock(target, purpose="copy"):
            counts = copy_database(source, target)
    finally:
        source.dispose()
        target.dispose()
    for table, count in counts.items():
        click.echo(f"{table:<16} {count:>10} rows")
    click.echo(f"copied to {masked(target_url)}; row counts verified")


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("catalog-demo.db"),
    show_default=True,
    help="The demo's own SQLite file; recreated on every demo run.",
)
def demo(db_path: Path) -> None:
    """Run the whole pipeline on bundled sample catalogs; no API key, no network.

    Serves three sample catalogs from a fake Hoox API on a loopback port, syncs
    them in turn into a local SQLite file over real HTTP, and prints the price
    changes found.
    """
    from rich.console import Console
    from rich.table import Table

    from catalog_sync.demo import other_changes, price_changes, run_demo

    console = Console()
    engine = run_demo(
        db_path, say=lambda line: console.print(line, soft_wrap=True, highlight=False)
    )
    try:
        table = Table(title="Price changes (base_cost, credits)")
        for column in ("model", "provider", "old", "new", "change", "run", "changed at (UTC)"):
            numeric = column in ("old", "new", "change")
            table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
        for row in price_changes(engine):
            old, new = float(row["old_value"]), float(row["new_value"])
            pct = f"{(new - old) / old:+.0%}" if old else "n/a"
            table.add_row(
                row["name"],
                row["provider"] or "",
                f"{old:g}",
                f"{new:g}",
                pct,
                str(row["id"]),
                f"{row['changed_at']:%Y-%m-%d %H:%M:%S}",
            )
        console.print(table)
        others = Table(title="Other changes")
        for column in ("run", "model", "kind", "field"):
            others.add_column(column)
        for row in other_changes(engine):
            others.add_row(str(row["sync_run_id"]), row["name"], row["kind"], row["field"] or "")
        console.print(others)
    finally:
        engine.dispose()
    console.print(
        f"The database is {db_path}; query it with SQL, e.g.\n"
        f'  sqlite3 {db_path} "SELECT m.name, c.base_cost, c.valid_from, c.valid_to '
        'FROM cost_history c JOIN models m ON m.id = c.model_id ORDER BY m.name, c.valid_from"',
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="catalog-sync")
