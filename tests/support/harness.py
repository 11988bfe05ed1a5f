"""The real CLI against the fake API and a real database, as a user runs it."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner, Result

from catalog_sync.cli import cli
from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.schema import derived_tables

# Every table `rebuild` recomputes from the archive (Table.info["derived"]).
ALL_DERIVED = tuple(str(table.name) for table in derived_tables())


@dataclass
class Harness:
    """Runs the real CLI against the fake API and a real database."""

    api: FakeHooxApi
    db_url: str
    tmp_path: Path
    settings: dict[str, Any] = field(default_factory=dict)  # sections; alerts: a list
    _written: str = field(default="", repr=False)

    @property
    def config_path(self) -> Path:
        """config.toml for the current settings: written when they change (a test
        may change `settings` between commands), else left as it is."""
        path = self.tmp_path / "config.toml"
        sections: dict[str, Any] = {
            "api": {
                "base_url": self.api.base_url,
                "timeout_seconds": 5,
                "max_retries": 2,
                "backoff_seconds": 0.01,
                "retry_after_max_seconds": 1,
            },
            "database": {"url": self.db_url},
        }
        for section, values in self.settings.items():
            if isinstance(values, list):  # an array of tables ([[alerts]])
                sections[section] = values
            else:
                sections.setdefault(section, {}).update(values)
        text = _toml(sections)
        if text != self._written:
            path.write_text(text)
            self._written = text
        return path

    def env(self, **extra: str) -> dict[str, str]:
        return {"HOOX_API_KEY": self.api.api_key, "CATALOG_SYNC_DATABASE_URL": "", **extra}

    def cli(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, ["--config", str(self.config_path), *args], env=env or self.env(), input=input
        )

    def sync(self, *args: str, expect: int = 0) -> Result:
        result = self.cli("sync", *args)
        assert result.exit_code == expect, (result.exit_code, result.output, result.stderr)
        return result

    def serve(self, document: dict[str, Any]) -> None:
        self.api.set_catalog(copy.deepcopy(document))

    def engine(self) -> sa.Engine:
        return make_engine(self.db_url)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [tuple(r) for r in connection.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def snapshot(
        self, tables: Sequence[str] = ALL_DERIVED, *, confirmations: bool = True
    ) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every derived table, in a stable order; without
        `confirmations`, the periods' `last_confirmed_at` left out (a quoted
        point's moves with every quote that returns its price)."""
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return {t: _rows(connection, t, confirmations) for t in tables}
        finally:
            engine.dispose()


def _rows(connection: sa.Connection, table: str, confirmations: bool) -> list[tuple[Any, ...]]:
    result = connection.execute(sa.text(f"SELECT * FROM {table}"))
    keep = [i for i, name in enumerate(result.keys()) if confirmations or name != CONFIRMED]
    return sorted((tuple(row[i] for i in keep) for row in result), key=repr)


CONFIRMED = "last_confirmed_at"


def _toml(sections: dict[str, Any]) -> str:
    lines = []
    tables = [
        (f"[{name}]", values) for name, values in sections.items() if isinstance(values, dict)
    ]
    arrays = [
        (f"[[{name}]]", table)
        for name, values in sections.items()
        if isinstance(values, list)
        for table in values
    ]
    for header, values in tables + arrays:  # an array of tables after every table
        lines.append(header)
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"
