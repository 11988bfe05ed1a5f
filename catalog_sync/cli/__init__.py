"""The command line: parse options, build dependencies, call the core, render.

Exit codes: 0 success, 1 run failed, 2 usage/config error, 3 refused by a
safety guard, 4 database lock busy. Errors are one `error:` line on stderr;
`--debug` adds the traceback.

This module holds the group, the shared options and the error mapping; the
commands live beside it, one module per audience: `running` (sync, schedule,
status, demo), `analysts` (models, history, changes, prices, report),
`archive` (import, rebuild, payloads), `database` (db, copy) and `tools`
(datasette, serve: the database in the tools people use).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from catalog_sync import __version__
from catalog_sync.config import Config, load_config
from catalog_sync.errors import CatalogSyncError, StoreError, first_line
from catalog_sync.logs import configure_logging
from catalog_sync.redact import Redactor
from catalog_sync.shown import visible

if TYPE_CHECKING:
    from rich.progress import TaskID
    from sqlalchemy import Connection, Engine

    from catalog_sync.core.diff import ChangeSet
    from catalog_sync.core.guards import Policy

log = logging.getLogger("catalog_sync")
T = TypeVar("T")


@dataclass
class AppContext:
    """What the group callback parsed; commands build what they need from it."""

    config_path: str | None
    debug: bool
    redactor: Redactor = field(default_factory=Redactor, repr=False)
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, os.environ)
            self.redactor.add(*config_secrets(self._config, os.environ))
        return self._config


class CatalogSyncGroup(click.Group):
    """Maps errors to exit codes and one `error:` line, for every entry point."""

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        extra.pop("standalone_mode", None)
        # Every secret the process may meet, so that no error line or log record shows it.
        redactor = Redactor()
        redactor.add(*env_secrets(os.environ))
        extra["obj"] = redactor
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
            _report(exc, redactor, debug="--debug" in argv)
            sys.exit(exc.exit_code)
        except Exception as exc:
            _report(exc, redactor, debug="--debug" in argv, prefix="unexpected error: ")
            sys.exit(1)
        sys.exit(0)


def _report(exc: BaseException, redactor: Redactor, *, debug: bool, prefix: str = "") -> None:
    if debug:
        sys.stderr.write(visible(redactor("".join(traceback.format_exception(exc)))))
    message = " ".join(str(exc).split()) or type(exc).__name__
    click.echo(visible(redactor(f"error: {prefix}{message}")), err=True)


def env_secrets(environ: Mapping[str, str]) -> list[str]:
    """The secrets the environment holds: the API key, a database URL's password."""
    from catalog_sync.config import API_KEY_ENV, DATABASE_URL_ENV

    return [environ.get(API_KEY_ENV, "").strip(), *url_password(environ.get(DATABASE_URL_ENV))]


def config_secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    """The database URL's password, the webhook URL and the apprise URLs (each
    one and all together: they hold tokens) the configuration points at."""
    hook = environ.get(config.notify.webhook_url_env, "") if config.notify.webhook_url_env else ""
    chat = environ.get(config.notify.apprise_urls_env, "") if config.notify.apprise_urls_env else ""
    chat_urls = [url for url in re.split(r"[\s,]+", chat) if url]
    return [*url_password(config.database.url), hook.strip(), chat.strip(), *chat_urls]


def url_password(url: str | None) -> list[str]:
    """A URL's password, as written and decoded ([] when it has none)."""
    if not url:
        return []
    from urllib.parse import quote, unquote, urlsplit

    try:
        raw = urlsplit(url.strip()).password
    except ValueError:
        return []
    if not raw:
        return []
    return [raw, unquote(raw), quote(unquote(raw), safe="")]


def format_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "csv", "json"]),
        default="table",
        show_default=True,
        help="An aligned table for the terminal, or CSV / JSON on stdout for machines.",
    )(function)


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
    redactor = ctx.obj if isinstance(ctx.obj, Redactor) else Redactor()
    configure_logging(level=level, fmt=log_format, redactor=redactor)
    ctx.obj = AppContext(config_path=config_path, debug=debug, redactor=redactor)


def _read(app: AppContext, query: Callable[[Connection], T]) -> T:
    """Run a read-only query function on the configured database."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from catalog_sync.storage.engine import opened
    from catalog_sync.storage.migrate import current_revision

    with opened(app.config().database.url) as engine:
        if current_revision(engine) is None:
            raise StoreError("the database has no catalog yet; run `catalog-sync sync` first")
        try:
            with engine.connect() as connection:
                return query(connection)
        except (OperationalError, ProgrammingError) as exc:
            raise StoreError(f"database error: {first_line(exc.orig or exc)}") from exc


def policy_of(config: Config, allow_mass_removal: bool) -> Policy:
    """The run's policy: the configured guards, and the flag that overrides one."""
    from catalog_sync.core.guards import Policy

    return Policy(
        config.sync.max_removed_fraction, allow_mass_removal, config.sync.removal_grace_runs
    )


def echo_preview(changesets: Sequence[ChangeSet]) -> None:
    """Print every change a dry run found, then its summary line."""
    from catalog_sync.analysts.render import describe_changes
    from catalog_sync.core.diff import summary_line

    for changes in changesets:
        for line in describe_changes(changes):
            click.echo(visible(line))
        click.echo(summary_line(changes.counts(), head="dry run", tail="; nothing was written"))


@contextlib.contextmanager
def _progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    """`update(label, done, total)`: a progress bar per label on stderr when it is
    a terminal (nothing otherwise), shown from the first update on."""
    if not sys.stderr.isatty():
        yield lambda label, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """`update(done, total)` for one progress bar on stderr when it is a terminal."""
    with _progress_bars() as update:
        yield functools.partial(update, label)


def main() -> None:
    """Console-script entry point (see catalog_sync.__main__, which applies the
    process policy first): run the command, then end the process at once."""
    from catalog_sync import _runtime

    try:
        cli.main(prog_name="catalog-sync")
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    _runtime.fast_exit(code)


# The commands register themselves on `cli` when their modules are imported.
@contextlib.contextmanager
def outputs_after_run(config: Config, engine: Engine) -> Iterator[None]:
    """Around a run (sync, scheduled, import, rebuild): after it, the metrics
    textfile, whatever the outcome; after a success, the feed. An attempt that
    found the lock busy writes neither: the run holding it does when it ends."""
    from catalog_sync.clock import utcnow
    from catalog_sync.errors import LockBusy

    started_at = utcnow()
    try:
        yield
    except LockBusy:
        raise
    except BaseException:
        _after_run(config, engine, succeeded=False, started_at=started_at)
        raise
    _after_run(config, engine, succeeded=True, started_at=started_at)


def _after_run(config: Config, engine: Engine, *, succeeded: bool, started_at: dt.datetime) -> None:
    """A file that cannot be written is an error line in the log, never the run's
    outcome (the run is recorded already)."""
    from catalog_sync.clock import utcnow

    now = utcnow()
    if config.metrics.textfile:
        from catalog_sync.analysts.metrics import write_textfile

        _logged(
            "metrics textfile",
            lambda: write_textfile(
                engine,
                Path(config.metrics.textfile),
                now=now,
                failed_since=None if succeeded else started_at,
            ),
        )
    if succeeded and config.feed.path:
        from catalog_sync.analysts.feed import write_feed

        _logged("feed", lambda: write_feed(engine, Path(config.feed.path), now=now))


def _logged(what: str, write: Callable[[], object]) -> None:
    try:
        write()
    except Exception as exc:  # a side file must never hide the run's outcome
        logging.getLogger("catalog_sync").error("could not write the %s: %s", what, exc)


from catalog_sync.cli import analysts, archive, database, running, tools  # noqa: E402

__all__ = ["analysts", "archive", "cli", "database", "main", "running", "tools"]
