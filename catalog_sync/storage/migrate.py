"""Alembic, wired to the package's own migrations with a Config built in code.

`ensure_schema` is what `sync` calls on every run: it reads the current
revision with one query and imports alembic only when there is work to do.
A new, empty SQLite database is created from `sqlite_schema.sql` instead:
the same migrations rendered by alembic's offline mode (`render_sql`), which a
test keeps identical to what `upgrade` does, run in one transaction without
importing alembic at all.
"""

from __future__ import annotations

import io
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from catalog_sync.errors import StoreError, first_line

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


def migrations_dir() -> Path:
    """Inside the wheel: catalog_sync/migrations; in a source checkout: ./migrations."""
    here = Path(__file__).resolve().parent  # catalog_sync/storage
    for candidate in (here.parent / "migrations", here.parent.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StoreError(f"the migrations folder is missing next to {here}")


def _newest_file_revision() -> str:
    """The newest revision: the highest `NNNN_` prefix in migrations/versions
    (a revision's id is its file's prefix; a test keeps it equal to alembic's
    head). Read from the file names, so that no alembic import is needed."""
    names = [path.name for path in (migrations_dir() / "versions").glob("[0-9]*_*.py")]
    return max(name.split("_", 1)[0] for name in names)


HEAD_REVISION = _newest_file_revision()


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The database's alembic revision, or None for an empty database."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
            return None if revision is None else str(revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the schema version: {first_line(exc)}") from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"schema upgrade failed: {first_line(exc)}") from exc


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> bool:
    """Bring the schema to the newest migration; True when something was applied."""
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return False
    if revision is None and engine.dialect.name == "sqlite" and _create_fresh_sqlite(engine):
        return True
    upgrade(engine)
    return True


SQLITE_SCRIPT = "sqlite_schema.sql"


def _create_fresh_sqlite(engine: Engine) -> bool:
    """Run the rendered migrations on a database with no tables; False if it has some."""
    script = resources.files("catalog_sync.storage").joinpath(SQLITE_SCRIPT).read_text()
    with engine.connect() as connection:
        if connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one():
            return False
        dbapi_connection = connection.connection.driver_connection
        assert dbapi_connection is not None
        try:
            # executescript runs the statements as written: one transaction.
            dbapi_connection.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
        except BaseException:
            dbapi_connection.rollback()
            raise
    return True


def render_sql(dialect_name: str) -> str:
    """The migrations up to head as one SQL script (alembic's offline mode)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    buffer = io.StringIO()
    config = AlembicConfig(output_buffer=buffer)
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["dialect_name"] = dialect_name
    command.upgrade(config, "head", sql=True)
    header = (
        "-- The migrations up to head, rendered by alembic's offline mode for a new\n"
        f"-- {dialect_name} database. Generated: python -m catalog_sync.storage.migrate\n\n"
    )
    return header + buffer.getvalue()


def check(engine: Engine) -> None:
    """Raise when the models and the migrations disagree (alembic's `check`)."""
    from alembic import command

    command.check(alembic_config(engine))


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


if __name__ == "__main__":  # regenerate the script after adding a migration
    target = Path(__file__).with_name(SQLITE_SCRIPT)
    target.write_text(render_sql("sqlite"))
    print(f"wrote {target}", file=sys.stderr)
