"""The payload archive: every body fetched or imported, gzip-compressed and
stored once per SHA-256, so history can be audited and rebuilt."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import zlib
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog_sync.errors import RunFailed, UsageError
from catalog_sync.storage.bulk import chunks
from catalog_sync.storage.runs import REPLAYED_STATUSES
from catalog_sync.storage.schema import Payload, SyncRun

# Fast enough for a 36 MB catalog in a fraction of a second, still ~10x smaller.
COMPRESS_LEVEL = 3


class ArchiveCorrupt(RunFailed):
    """An archived body cannot be decompressed."""


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def compress(body: bytes) -> bytes:
    """The stored form of a body (zlib lets other threads run while it works)."""
    return gzip.compress(body, compresslevel=COMPRESS_LEVEL, mtime=0)


def has_body(session: Session, sha: str) -> bool:
    return session.scalar(select(Payload.sha256).where(Payload.sha256 == sha)) is not None


def store_body(
    session: Session, sha: str, body: bytes, stored: bytes, *, seen_at: dt.datetime
) -> None:
    """Archive `body` (whose SHA-256 is `sha`) in its compressed form `stored`."""
    session.add(
        Payload(
            sha256=sha, first_seen_at=seen_at, size=len(body), stored_size=len(stored), body=stored
        )
    )
    session.flush()


def load_body(session: Session, sha: str) -> bytes:
    """The original bytes of an archived payload; ArchiveCorrupt names a bad entry."""
    stored = session.scalar(select(Payload.body).where(Payload.sha256 == sha))
    if stored is None:
        raise RunFailed(f"payload {sha} is not in the archive (pruned?)")
    try:
        body = gzip.decompress(stored)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveCorrupt(f"archived payload {sha} is corrupt: {exc}") from exc
    if sha256_of(body) != sha:
        raise ArchiveCorrupt(f"archived payload {sha} does not match its SHA-256")
    return body


def resolve_sha(session: Session, prefix: str) -> str:
    """A full SHA-256 from a unique prefix of at least 6 characters."""
    prefix = prefix.strip().lower()
    if len(prefix) < 6:
        raise UsageError("give at least 6 characters of the SHA-256")
    matches = session.scalars(
        select(Payload.sha256).where(Payload.sha256.startswith(prefix)).limit(2)
    ).all()
    if not matches:
        raise UsageError(f"no archived payload starts with {prefix!r}")
    if len(matches) > 1:
        raise UsageError(f"{prefix!r} matches several payloads; give more characters")
    return matches[0]


def list_payloads(session: Session) -> list[dict[str, Any]]:
    """Every archived payload with the runs that received it, oldest first."""
    runs = (
        select(
            SyncRun.payload_sha256.label("sha"),
            func.count().label("runs"),
            func.max(SyncRun.id).label("last_run"),
        )
        .where(SyncRun.payload_sha256.is_not(None))
        .group_by(SyncRun.payload_sha256)
        .subquery()
    )
    query = (
        select(
            Payload.sha256,
            Payload.first_seen_at,
            Payload.size,
            Payload.stored_size,
            func.coalesce(runs.c.runs, 0).label("runs"),
            runs.c.last_run,
        )
        .outerjoin(runs, runs.c.sha == Payload.sha256)
        .order_by(Payload.first_seen_at, Payload.sha256)
    )
    return [row._asdict() for row in session.execute(query)]


def pretty(body: bytes) -> bytes:
    """Indented JSON when the body is JSON; the raw bytes otherwise."""
    try:
        return (json.dumps(json.loads(body), indent=2, ensure_ascii=False) + "\n").encode()
    except (ValueError, UnicodeDecodeError):
        return body


def prune(session: Session, *, before: dt.datetime, force: bool) -> list[str]:
    """Delete payloads first seen before `before`; refuse ones rebuild needs unless forced."""
    old = session.scalars(select(Payload.sha256).where(Payload.first_seen_at < before)).all()
    needed = set(
        session.scalars(
            select(SyncRun.payload_sha256).where(
                SyncRun.payload_sha256.in_(old), SyncRun.status.in_(REPLAYED_STATUSES)
            )
        ).all()
    )
    if needed and not force:
        raise UsageError(
            f"{len(needed)} of the {len(old)} payloads first seen before {before:%Y-%m-%d %H:%M} "
            "are still needed by `rebuild` (they fed successful runs); nothing was deleted. "
            "Add --force to delete them anyway"
        )
    for batch in chunks(old):
        session.execute(delete(Payload).where(Payload.sha256.in_(batch)))
    return list(old)
