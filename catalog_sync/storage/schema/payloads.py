"""The payload archive: `payloads` (written by storage/payloads.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog_sync.storage.schema.types import Base, UTCDateTime, facts


class Payload(Base):
    __tablename__ = "payloads"
    __table_args__ = (
        {
            "info": facts(reading=12, datasette={"sort_desc": "first_seen_at"}),
            "comment": "The archive: every body ever fetched or imported, gzip-compressed, once per SHA-256 (`catalog-sync payloads`).",
        },
    )

    sha256: Mapped[str] = mapped_column(
        String(64),
        primary_key=True,
        comment="SHA-256 of the body as received (hex); sync_runs.payload_sha256 names it.",
    )
    first_seen_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), index=True, comment="When this body was first received or imported (UTC)."
    )
    size: Mapped[int] = mapped_column(BigInteger, comment="The body's size as received, in bytes.")
    stored_size: Mapped[int] = mapped_column(
        BigInteger, comment="The compressed size kept here, in bytes."
    )
    body: Mapped[bytes] = mapped_column(LargeBinary, comment="The body, gzip-compressed.")
