"""Nothing lost: import, rebuild and the payload archive."""

from __future__ import annotations

import itertools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.cli.options import (
    dry_run_option,
    echo_preview,
    format_option,
    mass_removal_option,
    read_database,
)
from catalog_sync.cli.progress import progress_bar
from catalog_sync.clock import utcnow
from catalog_sync.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from catalog_sync.config import Config
    from catalog_sync.flows.imports import Snapshot
    from catalog_sync.flows.result import SyncResult

T = TypeVar("T")
log = logging.getLogger(__name__)


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
    from catalog_sync.flows.imports import read_snapshots
    from catalog_sync.storage.engine import opened
    from catalog_sync.timeparse import parse_moment

    if observed_at is not None and len(files) > 1:
        raise UsageError("--observed-at applies to one file; name the others by their time")
    moment = None
    if observed_at is not None:
        moment = parse_moment(observed_at, now=utcnow(), option="--observed-at")
    snapshots = read_snapshots(files, observed_at=moment)
    config = app.config()
    guards = Guards(archive_only=archive_only, allow_mass_removal=allow_mass_removal)
    with opened(config.database.url) as engine:
        if dry_run:
            _echo_import_preview(config, engine, snapshots, guards)
            return
        results = _import_with_progress(config, engine, snapshots, guards)
    for snapshot, result in results:
        click.echo(_imported(snapshot, result, archive_only=archive_only))


@dataclass(frozen=True)
class Guards:
    archive_only: bool
    allow_mass_removal: bool


def _echo_import_preview(
    config: Config, engine: Engine, snapshots: list[Snapshot], guards: Guards
) -> None:
    """Each file's changes, in time order; nothing written."""
    from catalog_sync.flows.imports import preview_import
    from catalog_sync.runner.wiring import policy_of

    policy = policy_of(config, guards.allow_mass_removal)
    for snapshot, changes in preview_import(
        engine, snapshots, policy, archive_only=guards.archive_only
    ):
        click.echo(f"== {snapshot.path} ({snapshot.observed_at:%Y-%m-%d %H:%M:%S} UTC)")
        echo_preview([changes])


def _import_with_progress(
    config: Config, engine: Engine, snapshots: list[Snapshot], guards: Guards
) -> list[tuple[Snapshot, SyncResult | None]]:
    """The import, a progress bar counting the files on a terminal."""
    from catalog_sync.runner import runs
    from catalog_sync.runner.wiring import Channels

    channels = Channels.for_alerts(config, os.environ)  # before anything is written
    with progress_bar("importing") as update:
        done = itertools.count(1)

        def progress(snapshot: Snapshot, outcome: str) -> None:
            update(next(done), len(snapshots))
            log.info("%s: %s", snapshot.path, outcome)

        return runs.import_files(
            config,
            engine,
            snapshots,
            channels=channels,
            archive_only=guards.archive_only,
            allow_mass_removal=guards.allow_mass_removal,
            progress=progress,
        )


def _imported(snapshot: Snapshot, result: SyncResult | None, *, archive_only: bool) -> str:
    """One line per file: skipped, archived, or its summary."""
    when = f"{snapshot.observed_at:%Y-%m-%dT%H:%M:%SZ}"
    if result is None:
        return f"{snapshot.path} ({when}): skipped, already imported"
    if archive_only:
        return f"{snapshot.path} ({when}): archived (run {result.run_id})"
    return f"{snapshot.path} ({when}): {result.summary('import ok')}"


@cli.command()
@click.pass_obj
def rebuild(app: AppContext) -> None:
    """Recompute every derived table from the archived payloads, in one transaction.

    Replays the payloads of successful (and archived-only) runs in observation
    order, under the database lock; the result equals the incremental history.
    Use it after a bug fix, or after `import --archive-only` of older snapshots.
    """
    from catalog_sync.runner.runs import rebuild_history
    from catalog_sync.storage.engine import opened

    config = app.config()
    with opened(config.database.url) as engine, progress_bar("rebuilding") as update:
        result = rebuild_history(config, engine, progress=update)
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
    from catalog_sync.analysts.render import emit
    from catalog_sync.storage.payloads import list_payloads

    rows = read_database(ctx.obj, lambda connection: _in_session(connection, list_payloads))
    emit(
        rows, ["sha256", "first_seen_at", "size", "stored_size", "runs", "last_run"], output_format
    )


@payloads.command("show")
@click.argument("sha")
@click.option("--raw", is_flag=True, help="The exact bytes even on a terminal.")
@click.pass_obj
def payloads_show(app: AppContext, sha: str, raw: bool) -> None:
    """Print one payload: pretty JSON, or the body as received when it is not JSON.

    SHA may be a unique prefix (6 characters or more).

    On a terminal the body is read as UTF-8 (a byte that is not, as U+FFFD) and
    its control characters are shown as escapes such as \\x1b, a backslash as
    two; in a pipe or a file, or with --raw, the exact bytes.
    """
    from catalog_sync.storage.payloads import load_body, pretty, resolve_sha

    def show(connection: Connection) -> bytes:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            return pretty(load_body(session, resolve_sha(session, sha)))

    body = read_database(app, show)
    sys.stdout.buffer.write(shown_body(body, exact=raw or not _stdout_is_terminal()))
    sys.stdout.flush()


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def shown_body(body: bytes, *, exact: bool) -> bytes:
    """What `payloads show` writes: the exact bytes, or for a terminal the body
    as UTF-8 text (U+FFFD for a byte that is not) made visible like any text
    from the API (catalog_sync.shown)."""
    if exact:
        return body
    from catalog_sync.shown import visible

    return visible(body.decode("utf-8", errors="replace")).encode()


@payloads.command("prune")
@click.option("--before", required=True, metavar="WHEN", help="Payloads first seen before this.")
@click.option("--force", is_flag=True, help="Also delete payloads that `rebuild` still needs.")
@click.pass_obj
def payloads_prune(app: AppContext, before: str, force: bool) -> None:
    """Delete archived payloads first seen before WHEN (nothing else is ever deleted).

    Refuses to drop a payload a successful run was built from (rebuild needs
    it) unless --force.
    """
    from catalog_sync.flows.maintenance import prune_payloads
    from catalog_sync.storage.engine import opened
    from catalog_sync.timeparse import parse_moment

    moment = parse_moment(before, now=utcnow(), option="--before")
    with opened(app.config().database.url) as engine:
        deleted = prune_payloads(engine, before=moment, force=force)
    click.echo(
        f"deleted {len(deleted)} payload(s) first seen before {moment:%Y-%m-%d %H:%M:%S} UTC"
    )


def _in_session(connection: Connection, query: Callable[[Session], T]) -> T:
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:
        return query(session)
