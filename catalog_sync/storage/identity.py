"""This database's identity: a UUID made once, on first use, kept in `database_identity`."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog_sync.storage.schema import DatabaseIdentity


def database_uuid(engine: Engine, *, now: dt.datetime) -> str:
    """The database's UUID, made (and stored) the first time it is asked for."""
    with Session(engine) as session:
        found = session.scalar(select(DatabaseIdentity.uuid).where(DatabaseIdentity.id == 1))
        if found is not None:
            return found
        session.add(DatabaseIdentity(id=1, uuid=str(uuid.uuid4()), created_at=now))
        try:
            session.commit()
        except IntegrityError:  # made meanwhile by another process
            session.rollback()
        made = session.scalar(select(DatabaseIdentity.uuid).where(DatabaseIdentity.id == 1))
        assert made is not None
        return made
