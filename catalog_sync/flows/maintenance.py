"""The database's upkeep, each under the run lock: schema upgrades, copying a
whole history into another database, pruning the payload archive."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog_sync.storage import migrate
from catalog_sync.storage.lock import run_lock
from catalog_sync.storage.payloads import prune
from catalog_sync.storage.transfer import copy_database


def upgrade_schema(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest migration; the revisions before and after."""
    with run_lock(engine, purpose="db upgrade"):
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        return before, migrate.current_revision(engine)


def copy_history(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every row of `source` into the empty `target`, both locked; row counts."""
    with run_lock(source, purpose="copy"), run_lock(target, purpose="copy"):
        return copy_database(source, target)


def prune_payloads(engine: Engine, *, before: dt.datetime, force: bool) -> list[str]:
    """Delete archived payloads first seen before `before` (see storage.payloads.prune)."""
    with run_lock(engine, purpose="payloads prune"), Session(engine) as session, session.begin():
        return prune(session, before=before, force=force)
