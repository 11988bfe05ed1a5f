"""The run log and the database's identity: `sync_runs` (written by
storage/runs.py) and `database_identity` (storage/identity.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog_sync.storage.schema.types import Base, IdType, UTCDateTime, facts


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(
        IdType, primary_key=True, comment="The run's number; other tables' sync_run_id point here."
    )
    started_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="When the run started (UTC)."
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="When the run ended (UTC); NULL while it is running."
    )
    observed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="The run's observation time (UTC): every period and change it wrote carries it; between started_at and finished_at (an import: the file's own time).",
    )
    status: Mapped[str] = mapped_column(
        String(16),
        comment="running, success, failed (nothing applied), refused (a safety guard; nothing applied) or archived (an import kept only in the payload archive).",
    )
    trigger: Mapped[str] = mapped_column(
        String(32), comment="What started the run: cli, schedule, demo or import."
    )
    models_seen: Mapped[int | None] = mapped_column(
        Integer, comment="Models in the catalog this run received."
    )
    models_added: Mapped[int | None] = mapped_column(
        Integer, comment="Models new this run (an added change each)."
    )
    models_updated: Mapped[int | None] = mapped_column(
        Integer,
        comment="Models with at least one changed field this run (a re-priced model counts here and in price_changes).",
    )
    models_removed: Mapped[int | None] = mapped_column(
        Integer,
        comment="Models that left the catalog this run (after sync.removal_grace_runs successful runs missing).",
    )
    models_restored: Mapped[int | None] = mapped_column(
        Integer, comment="Removed models that came back this run."
    )
    price_changes: Mapped[int | None] = mapped_column(
        Integer, comment="Models whose base_cost changed this run."
    )
    points_changed: Mapped[int | None] = mapped_column(
        Integer, comment="Price points re-priced this run (with pricing enabled; else NULL)."
    )
    details_failed: Mapped[int | None] = mapped_column(
        Integer,
        comment="Models whose details or quotes failed this run, retried on the next (with details enabled; else NULL).",
    )
    error: Mapped[str | None] = mapped_column(
        Text, comment="Why the run failed or was refused, one line; NULL on success."
    )
    notified_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When the change digest was delivered (webhook, chat) (UTC); NULL if none was sent.",
    )
    notify_error: Mapped[str | None] = mapped_column(
        Text, comment="Why the change digest could not be delivered; the sync itself succeeded."
    )
    requests: Mapped[int | None] = mapped_column(
        Integer,
        comment="HTTP requests the run sent to the Hoox API, retries included; NULL for runs before this was counted.",
    )
    # The body this run received or imported (payloads.sha256); no foreign key,
    # so that `payloads prune --force` can drop a body its run still names.
    payload_sha256: Mapped[str | None] = mapped_column(
        String(64),
        index=True,
        comment="SHA-256 of the body this run received or imported (payloads.sha256; the body may have been pruned).",
    )

    __table_args__ = (
        Index(None, "status", "finished_at"),
        Index(None, "status", "observed_at"),
        {
            "info": facts(
                reading=7, datasette={"sort_desc": "id", "facets": ["status", "trigger"]}
            ),
            "comment": "One row per sync attempt (failed, refused and archive-only imports included): when it ran, how, its outcome and its counts.",
        },
    )


class DatabaseIdentity(Base):
    __tablename__ = "database_identity"
    __table_args__ = (
        {
            "info": facts(reading=13, datasette={"hidden": True}),
            "comment": "This database's own identity: one row, made on first use; the feed's entry ids are built from it.",
        },
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Always 1.")
    uuid: Mapped[str] = mapped_column(
        String(36), comment="A random UUID naming this database (kept by `copy`)."
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="When the identity was made (UTC)."
    )
