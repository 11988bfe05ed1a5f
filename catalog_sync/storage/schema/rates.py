"""What a credit costs: `credit_rates`, written by storage/rates.py. The user's
own data (`rates set`, `rates import`): `rebuild` keeps it, `copy` copies it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog_sync.storage.schema.types import (
    OPEN_PERIODS_ONLY,
    Base,
    DecimalText,
    IdType,
    UTCDateTime,
    facts,
)


class CreditRate(Base):
    __tablename__ = "credit_rates"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, comment="The period's key.")
    currency: Mapped[str] = mapped_column(
        Text, comment="The currency: its three-letter code in capitals, e.g. EUR, USD."
    )
    per_credit: Mapped[Decimal] = mapped_column(
        DecimalText(),
        comment="What one Hoox credit costs in that currency during the period: an exact decimal (numeric on PostgreSQL; its decimal text on SQLite, e.g. 0.0125).",
    )
    valid_from: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="Start of the period (UTC): from when the rate applies."
    )
    valid_to: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="End of the period (UTC), not included: the start of the next rate; NULL for the open period.",
    )
    source: Mapped[str] = mapped_column(
        String(16), comment="How the rate was recorded: set (rates set) or import (rates import)."
    )
    note: Mapped[str | None] = mapped_column(
        Text, comment="The user's note (a plan, an invoice), if any."
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="When the rate was recorded here (UTC)."
    )

    __table_args__ = (
        Index(None, "currency", "valid_from"),
        # At most one open period per currency, enforced by the database itself.
        Index(
            "uq_credit_rates_open_period",
            "currency",
            unique=True,
            **OPEN_PERIODS_ONLY,
        ),
        CheckConstraint("source IN ('set', 'import')", name="source"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
        {
            "info": facts(
                reading=9, datasette={"sort_desc": "valid_from", "facets": ["currency", "source"]}
            ),
            "comment": "What one credit costs in money (SCD type 2 per currency): one row per period a currency had one rate; valid_to NULL is the open period. The user's data: rebuild keeps it.",
        },
    )
