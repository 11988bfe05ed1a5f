"""alerts_fired

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:13:13.737955

- `alerts_fired`: what the [[alerts]] rules fired, one row per rule and change,
  unique on (alert, model, change_key) so that a change fires a rule once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog_sync.storage.schema

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alerts_fired",
        sa.Column("id", ID, nullable=False, comment="The firing's key."),
        sa.Column(
            "alert",
            sa.Text(),
            nullable=False,
            comment="The rule's name, as configured in [[alerts]] (name = ...).",
        ),
        sa.Column(
            "sync_run_id",
            ID,
            nullable=False,
            comment="The run whose changes fired the rule (sync_runs.id): the run that "
            "recorded the change.",
        ),
        sa.Column(
            "model",
            sa.Text(),
            nullable=False,
            comment="The model's name (models.name) the change is about, as stored.",
        ),
        sa.Column(
            "change_key",
            sa.Text(),
            nullable=False,
            comment="The change's identity: its kind (price, price_point, added, removed, "
            "restored), its observation time (UTC, ISO 8601) and, for a price point, its "
            "params. The same however often the history is replayed: a change fires a rule "
            "once.",
        ),
        sa.Column(
            "detail",
            catalog_sync.storage.schema.JSONText(),
            nullable=False,
            comment="The change as the message told it (JSON): kind, model, label, provider, "
            "type, params, old_cost, new_cost, pct_change, changed_at, sync_run_id, key.",
        ),
        sa.Column(
            "fired_at",
            catalog_sync.storage.schema.UTCDateTime(timezone=True),
            nullable=False,
            comment="When the rule fired (UTC): after the run, before delivery.",
        ),
        sa.Column(
            "delivered",
            sa.Boolean(),
            nullable=False,
            comment="Whether every channel of the rule took its message: false with error "
            "when one failed, false without error when the rule has no channels (recorded "
            "only).",
        ),
        sa.Column(
            "error",
            sa.Text(),
            nullable=True,
            comment="Why a channel did not take the message (never a URL); NULL when delivered.",
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
            name=op.f("fk_alerts_fired_sync_run_id_sync_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts_fired")),
        sa.UniqueConstraint(
            "alert",
            "model",
            "change_key",
            name=op.f("uq_alerts_fired_alert_model_change_key"),
        ),
        comment="What the [[alerts]] rules fired: one row per rule and change it matched, "
        "fired once (a rerun, rebuild or import never fires it again), with the delivery's "
        "outcome. The user's record: rebuild keeps it.",
    )
    op.create_index(
        op.f("ix_alerts_fired_alert_fired_at"), "alerts_fired", ["alert", "fired_at"], unique=False
    )
    op.create_index(
        op.f("ix_alerts_fired_sync_run_id"), "alerts_fired", ["sync_run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_fired_sync_run_id"), table_name="alerts_fired")
    op.drop_index(op.f("ix_alerts_fired_alert_fired_at"), table_name="alerts_fired")
    op.drop_table("alerts_fired")
