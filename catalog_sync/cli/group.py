"""The `catalog-sync` group: global options, the application context, and the
mapping of every error to its exit code and one `error:` line.

Exit codes: 0 success, 1 run failed, 2 usage/config error, 3 refused by a
safety guard, 4 database lock busy. Errors are one `error:` line on stderr;
`--debug` adds the traceback. The commands register themselves on `cli` in
their own modules (imported by `catalog_sync.cli`), and never import the
package that imports them.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from catalog_sync import __version__
from catalog_sync.config import Config, load_config
from catalog_sync.errors import CatalogSyncError
from catalog_sync.logs import configure_logging
from catalog_sync.redact import Redactor, config_secrets, env_secrets
from catalog_sync.shown import visible


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
