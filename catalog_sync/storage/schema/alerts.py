"""The alerts that fired: `alerts_fired`, written by storage/alerts.py after a
successful run. The user's record of what was sent: `rebuild` keeps it, `copy`
copies it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from catalog_sync.storage.schema.types import (
    Base,
    IdType,
    JSONText,
    UTCDateTime,
    facts,
    run_ref,
)


class AlertFired(Base):
    __tablename__ = "alerts_fired"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, comment="The firing's key.")
    alert: Mapped[str] = mapped_column(
        Text, comment="The rule's name, as configured in [[alerts]] (name = ...)."
    )
    sync_run_id: Mapped[int] = run_ref(
        "The run whose changes fired the rule (sync_runs.id): the run that recorded the change."
    )
    model: Mapped[str] = mapped_column(
        Text, comment="The model's name (models.name) the change is about, as stored."
    )
    change_key: Mapped[str] = mapped_column(
        Text,
        comment="The change's identity: its kind (price, price_point, added, removed, restored), its observation time (UTC, ISO 8601) and, for a price point, its params. The same however often the history is replayed: a change fires a rule once.",
    )
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONText(),
        comment="The change as the message told it (JSON): kind, model, label, provider, type, params, old_cost, new_cost, pct_change, changed_at, sync_run_id, key.",
    )
    fired_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="When the rule fired (UTC): after the run, before delivery."
    )
    delivered: Mapped[bool] = mapped_column(
        Boolean,
        comment="Whether every channel of the rule took its message: false with error when one failed, false without error when the rule has no channels (recorded only).",
    )
    error: Mapped[str | None] = mapped_column(
        Text, comment="Why a channel did not take the message (never a URL); NULL when delivered."
    )

    __table_args__ = (
        UniqueConstraint("alert", "model", "change_key"),
        Index(None, "alert", "fired_at"),
        Index(None, "sync_run_id"),
        {
            "info": facts(
                reading=14,
                datasette={"sort_desc": "fired_at", "facets": ["alert", "delivered"]},
            ),
            "comment": "What the [[alerts]] rules fired: one row per rule and change it matched, fired once (a rerun, rebuild or import never fires it again), with the delivery's outcome. The user's record: rebuild keeps it.",
        },
    )
