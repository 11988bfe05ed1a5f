"""The command line: parse options, call the runner or a query, print.

`group` holds the `catalog-sync` group, the application context and the error
mapping; `options` and `progress` what commands share. The commands live
beside them, one module per audience, and register themselves on the group
when imported here: `syncing` (sync, schedule, status), `demo`, `reading`
(models, history, changes, prices, points, report, feed), `archive` (import,
rebuild, payloads), `database` (db, copy), `datasette` (datasette, serve),
`costs` (cost, rates) and `alerts` (alerts test, alerts list).
No command module imports this package.
"""

from __future__ import annotations

import sys

from catalog_sync.cli import alerts, archive, costs, database, datasette, demo, reading, syncing
from catalog_sync.cli.group import cli

__all__ = [
    "alerts",
    "archive",
    "cli",
    "costs",
    "database",
    "datasette",
    "demo",
    "main",
    "reading",
    "syncing",
]


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
