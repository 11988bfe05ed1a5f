"""Alembic environment: the engine comes from catalog-sync, never from an ini file.

Offline mode (`sql=True`) renders the migrations as a SQL script for a dialect
given in `config.attributes["dialect_name"]`: catalog-sync creates a new
SQLite database from that script (see catalog_sync.storage.migrate.ensure_schema).
"""

from __future__ import annotations

from alembic import context

from catalog_sync.storage.schema import Base

config = context.config

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
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
