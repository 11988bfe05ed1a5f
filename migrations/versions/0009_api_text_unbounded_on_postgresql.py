"""API text unbounded on PostgreSQL: what SQLite stores, PostgreSQL stores

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:30:00.000000

Every column filled from the API (a model's name, type and provider, a
capability's and a tag's name, a change's field, a setting's key and type)
becomes `text` on PostgreSQL, where `varchar(n)` refused a provider of 80
characters. The views that read those columns are dropped and created again
around the change, each from its own stored definition. SQLite never
enforces a declared length: its columns stay as they are (env.py's type
comparison knows that VARCHAR(n) and TEXT are one type there).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, the length it had)
COLUMNS = (
    ("models", "name", 255),
    ("models", "type", 64),
    ("models", "provider", 64),
    ("capabilities", "name", 255),
    ("tags", "name", 255),
    ("catalog_changes", "field", 255),
    ("model_settings", "key", 255),
    ("model_settings", "type", 64),
)
# In an order each can be created in (price_changes reads no other view).
VIEWS = ("current_models", "price_changes", "price_point_changes")


def _retype(to_text: bool) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    bind = op.get_bind()
    definition = sa.text("SELECT pg_get_viewdef(CAST(:v AS regclass), true)")
    definitions = {view: bind.execute(definition, {"v": view}).scalar_one() for view in VIEWS}
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW {view}")
    for table, column, length in COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.Text() if to_text else sa.String(length),
            existing_type=sa.String(length) if to_text else sa.Text(),
        )
    for view in VIEWS:
        op.execute(f"CREATE VIEW {view} AS {definitions[view]}")


def upgrade() -> None:
    _retype(to_text=True)


def downgrade() -> None:
    _retype(to_text=False)
