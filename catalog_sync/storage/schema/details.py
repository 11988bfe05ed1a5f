"""Details and price points (details.enabled, pricing.enabled): `model_details`,
`model_settings` and `price_points`, written by storage/details.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from catalog_sync.storage.schema.types import (
    OPEN_PERIODS_ONLY,
    Base,
    IdType,
    JSONText,
    UTCDateTime,
    facts,
    model_ref,
    run_ref,
)


class ModelDetails(Base):
    __tablename__ = "model_details"
    __table_args__ = (
        {
            "info": facts(reading=11),
            "comment": "Each model's Get Model body and its fetch state (details.enabled), and what failed last time (retried next run).",
        },
    )

    model_id: Mapped[int] = model_ref(primary_key=True)
    raw: Mapped[Any] = mapped_column(
        JSONText(),
        nullable=True,
        comment="The Get Model body as last received (JSON): settings and input_schema.",
    )
    fetched_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="When the details were last fetched (UTC)."
    )
    quoted_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When the model's price points were last quoted in full (UTC; pricing.enabled).",
    )
    error: Mapped[str | None] = mapped_column(
        Text, comment="The last failure (details or a quote), one line; NULL after a success."
    )
    details_failed: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="Whether the last details fetch failed (retried next run).",
    )
    quotes_failed: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="Whether the last quoting failed (retried next run).",
    )


class ModelSetting(Base):
    __tablename__ = "model_settings"
    __table_args__ = (
        {
            "info": facts(reading=10, datasette={"facets": ["key", "affects_cost"]}),
            "comment": "A model's current settings (from its details): the knobs a generation takes, and whether they change its price.",
        },
    )

    model_id: Mapped[int] = model_ref(primary_key=True)
    key: Mapped[str] = mapped_column(
        Text,
        primary_key=True,
        comment="The setting's key, e.g. duration, resolution, generateAudio.",
    )
    type: Mapped[str | None] = mapped_column(
        Text, comment="The setting's type as the API says (select, boolean, number, ...)."
    )
    label: Mapped[str | None] = mapped_column(Text, comment="The setting's display name.")
    default_value: Mapped[Any] = mapped_column(
        JSONText(), nullable=True, comment="The default (JSON)."
    )
    affects_cost: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="Whether the setting changes the price (it is then part of every price point's params).",
    )
    options: Mapped[Any] = mapped_column(
        JSONText(), nullable=True, comment="The allowed values (JSON list), if the API lists them."
    )


class PricePoint(Base):
    __tablename__ = "price_points"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, comment="The period's key.")
    model_id: Mapped[int] = model_ref()
    params: Mapped[str] = mapped_column(
        Text,
        comment='The point: canonical JSON text of its cost-relevant settings, sorted keys, no spaces, e.g. {"duration":8,"resolution":"1080p"}.',
    )  # canonical JSON: sorted keys, no spaces
    cost_per_generation: Mapped[float] = mapped_column(
        Float, comment="The price of one generation at this point during the period, in credits."
    )
    valid_from: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(),
        comment="Start of the period (UTC): the observation time of the run that quoted this price first.",
    )
    valid_to: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="End of the period (UTC), not included; NULL for the open period."
    )
    sync_run_id: Mapped[int] = run_ref("The run that opened the period (sync_runs.id).")
    # Nullable in the database (added by migration 0012, last of the columns there),
    # always set by the code.
    last_confirmed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When this price was last seen unchanged (UTC): the observation time of the last run whose quote of this point returned it; for periods written before migration 0012, the model's last full quote if the period is open (else valid_from).",
    )

    __table_args__ = (
        Index(None, "model_id", "params", "valid_from"),
        Index(None, "valid_from"),
        Index(
            "uq_price_points_open_period",
            "model_id",
            "params",
            unique=True,
            **OPEN_PERIODS_ONLY,
        ),
        {
            "info": facts(reading=8, datasette={"sort_desc": "valid_from"}),
            "comment": "Price-point history (SCD type 2, pricing.enabled): one row per period a model's point (a combination of cost-relevant settings) had one price; valid_to NULL is the open period.",
        },
    )
