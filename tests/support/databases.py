"""Real databases for tests, built once and copied or emptied many times.

A test's database is at the newest schema with no rows, or (asked for) empty
of tables, as a new user's first run meets it. Migrating per test cost most of
the suite's time, and so did `CREATE DATABASE` on PostgreSQL (0.1 to 0.4 s
each here), so:

- SQLite: one file migrated per session (and per xdist worker), copied per test.
- PostgreSQL: one template database migrated per session and worker; a test's
  database is taken from the worker's pool of databases already emptied by an
  earlier test (its other sessions ended, every row deleted, every sequence
  restarted), or made with `CREATE DATABASE ... TEMPLATE`. A database whose
  schema a test changed (a downgrade, a table of its own) is dropped, never
  reused. Nothing is shared between workers: each has its own template and pool.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from catalog_sync.storage.engine import make_engine

# The PostgreSQL server the tests create their databases on (trust auth on loopback).
PG_ADMIN_URL = os.environ.get(
    "CATALOG_SYNC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# What a test may change without making its database unfit for the next one:
# rows and sequences. The schema's shape is compared before a database is reused.
SHAPE_SQL = """
SELECT c.relkind::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       a.attnotnull::text, obj_description(c.oid, 'pg_class'), col_description(c.oid, a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text, conname::text, pg_get_constraintdef(oid), '', '', ''
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger', tgrelid::regclass::text, tgname::text, '', '', '', ''
FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'function', proname::text, '', '', '', '', ''
FROM pg_proc WHERE pronamespace = 'public'::regnamespace
ORDER BY 1, 2, 3
"""


def worker() -> str:
    """This pytest-xdist worker's name (gw0, gw1...), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pg_url(name: str) -> str:
    return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _unreachable(exc: sa.exc.OperationalError) -> None:
    message = (
        f"PostgreSQL is not reachable at {sa.make_url(PG_ADMIN_URL)!r}: {exc.orig}; "
        "start it, or set CATALOG_SYNC_TEST_BACKENDS=sqlite"
    )
    if os.environ.get("CI"):
        pytest.fail(message)  # in CI the PostgreSQL half must run, never skip
    pytest.skip(message)


def shape_of(connection: sa.Connection) -> list[tuple[object, ...]]:
    """The schema's shape, and the revision alembic_version names (a test may set it)."""
    shape = [tuple(row) for row in connection.exec_driver_sql(SHAPE_SQL)]
    version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return [*shape, *(tuple(row) for row in version)]


def empty_tables(connection: sa.Connection) -> None:
    """Delete every row and restart every sequence: a migrated database as new.
    (DELETE, not TRUNCATE: on tables this small it is several times faster.)"""
    from catalog_sync.storage.schema import Base

    for table in reversed(Base.metadata.sorted_tables):
        connection.execute(table.delete())
    if connection.dialect.name == "postgresql":
        sequences = connection.exec_driver_sql(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).scalars()
        for sequence in list(sequences):
            connection.exec_driver_sql(f'ALTER SEQUENCE "{sequence}" RESTART')


class Templates:
    """Per session and worker: the migrated SQLite file, the PostgreSQL template
    and the pool of emptied PostgreSQL databases ready for the next test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgresql: str | None = None
        self._shape: list[tuple[object, ...]] | None = None
        self._admin: sa.Engine | None = None
        self.pool: list[str] = []
        self.made: set[str] = set()
        self._histories: dict[tuple[str, bool], str] = {}

    @property
    def admin(self) -> sa.Engine:
        if self._admin is None:
            self._admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        return self._admin

    def sqlite(self) -> Path:
        if self._sqlite is None:
            from catalog_sync.storage.migrate import ensure_schema

            path = self.folder / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            ensure_schema(engine)
            engine.dispose()
            self._sqlite = path
        return self._sqlite

    def create_database(self, template: str | None = None) -> str:
        """A new PostgreSQL database (a copy of `template`, or empty); its name."""
        name = f"cs_test_{worker()}_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        try:
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        except sa.exc.OperationalError as exc:
            _unreachable(exc)
        self.made.add(name)
        return name

    def template(self) -> str:
        if self._postgresql is None:
            from catalog_sync.storage.migrate import ensure_schema

            name = self.create_database()
            engine = make_engine(pg_url(name))
            ensure_schema(engine)
            with engine.connect() as connection:
                self._shape = shape_of(connection)
            engine.dispose()  # a template must have no sessions open when copied
            self._postgresql = name
        return self._postgresql

    def migrated_postgresql(self) -> str:
        """A database at the newest schema with no rows: from the pool, or new."""
        if self.pool:
            return self.pool.pop()
        return self.create_database(self.template())

    def give_back(self, names: Sequence[str]) -> None:
        """End every session on these databases; keep each one whose schema is the
        template's, emptied, for the next test; drop the others."""
        if not names:
            return
        with self.admin.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE datname = ANY(%(names)s) AND pid <> pg_backend_pid()",
                {"names": list(names)},
            )
        spoilt = [name for name in names if not self._empty_if_pristine(name)]
        self.drop(spoilt)

    def _empty_if_pristine(self, name: str) -> bool:
        if self._shape is None:
            return False  # an empty database a test asked for: never reused
        engine = make_engine(pg_url(name))
        try:
            with engine.begin() as connection:
                if shape_of(connection) != self._shape:
                    return False
                empty_tables(connection)
        except sa.exc.SQLAlchemyError:
            return False
        finally:
            engine.dispose()
        self.pool.append(name)
        return True

    def copy_history(self, backend: str, url: str, *, priced: bool) -> None:
        """Make the database at `url` (a fresh one of this session) a copy of the
        shared history (support.history), built once per session and worker."""
        key = (backend, priced)
        if key not in self._histories:
            self._histories[key] = self._build_history(backend, priced)
        template = self._histories[key]
        if backend == "sqlite":
            shutil.copyfile(template, sa.make_url(url).database or "")
            return
        name = sa.make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def _build_history(self, backend: str, priced: bool) -> str:
        from catalog_sync.fakehoox import FakeHooxApi
        from support.history import build_history

        if backend == "sqlite":
            built = self.folder / f"history-{'priced' if priced else 'plain'}.db"
            shutil.copyfile(self.sqlite(), built)
            url = f"sqlite:///{built}"
        else:
            built_name = self.create_database(self.template())
            url = pg_url(built_name)
        with FakeHooxApi() as api:
            build_history(api, url, priced=priced)
        return str(built) if backend == "sqlite" else built_name

    def drop(self, names: Sequence[str]) -> None:
        if not names:
            return
        with self.admin.connect() as connection:
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                self.made.discard(name)

    def drop_all(self) -> None:
        if self._admin is None:
            return
        self.drop(sorted(self.made))
        self._admin.dispose()


class Databases:
    """Fresh databases of one backend for one test, at the newest schema or
    empty of tables; given back (or dropped) when the test ends."""

    def __init__(self, backend: str, tmp_path: Path, templates: Templates) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.templates = templates
        self.created: list[str] = []

    def new(self, *, empty: bool = False) -> str:
        """A new database at the newest schema with no rows, or with no tables."""
        if self.backend == "sqlite":
            path = self.tmp_path / f"catalog{len(self.created) or ''}.db"
            if not empty:
                shutil.copyfile(self.templates.sqlite(), path)
            self.created.append(str(path))
            return f"sqlite:///{path}"
        if empty:
            name = self.templates.create_database()
            self.created.append(name)
        else:
            name = self.templates.migrated_postgresql()
            self.created.append(name)
        return pg_url(name)

    def release(self) -> None:
        if self.backend == "postgresql":
            self.templates.give_back(self.created)


def keys_and_indexes(engine: sa.Engine) -> dict[str, Any]:
    """Every table's primary key, foreign keys, unique constraints and indexes,
    as the database itself reports them."""
    inspector = sa.inspect(engine)
    return {
        table: (
            inspector.get_pk_constraint(table),
            sorted(
                (fk["name"], fk["options"].get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ),
            sorted(uq["name"] for uq in inspector.get_unique_constraints(table)),
            sorted((ix["name"], ix["unique"]) for ix in inspector.get_indexes(table)),
        )
        for table in inspector.get_table_names()
    }
