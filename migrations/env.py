"""Alembic environment: the engine comes from catalog-sync, never from an ini file.

Offline mode (`sql=True`) renders the migrations as a SQL script for a dialect
given in `config.attributes["dialect_name"]`: catalog-sync creates a new
SQLite database from that script (see catalog_sync.storage.migrate.ensure_schema).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from catalog_sync.storage.schema import Base

config = context.config


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: sa.types.TypeEngine[Any],
    metadata_type: sa.types.TypeEngine[Any],
) -> bool | None:
    """SQLite never enforces a declared length: VARCHAR(n) and TEXT are one type
    there (migration 0009 makes them `text` on PostgreSQL only). None: alembic's
    own comparison, for everything else."""
    if (
        context.dialect.name == "sqlite"
        and isinstance(metadata_type, sa.Text)
        and isinstance(inspected_type, sa.String)
    ):
        return False
    return None


if context.is_offline_mode():
    context.configure(
        dialect_name=config.attributes["dialect_name"],
        target_metadata=Base.metadata,
        render_as_batch=config.attributes["dialect_name"] == "sqlite",
        literal_binds=True,
        transactional_ddl=False,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=compare_type,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
