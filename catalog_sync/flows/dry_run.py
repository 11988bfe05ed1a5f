"""The dry run: what a body (or a sequence of bodies) would change, with the
run's checks, writing nothing at all (not even a new SQLite file)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog_sync.core.diff import ChangeSet, PreviousModel, diff_catalog, state_after
from catalog_sync.core.guards import Policy, check_mass_removal
from catalog_sync.core.payload import CatalogItem, parse_catalog
from catalog_sync.errors import UsageError
from catalog_sync.flows.repairs import warn_repaired
from catalog_sync.storage import migrate, state
from catalog_sync.storage.engine import sqlite_path


def preview_sync(engine: Engine, fetch: Callable[[], bytes], policy: Policy) -> ChangeSet:
    """`sync --dry-run`: fetch once, and what the body would change."""
    (changes,) = preview(engine, [fetch()], policy)
    return changes


def preview(engine: Engine, bodies: Sequence[bytes], policy: Policy) -> list[ChangeSet]:
    """Validate and diff each body in turn, starting from the stored state, each
    against the state the previous one would leave; write nothing at all."""
    catalogs = [parse_catalog(body) for body in bodies]
    for catalog in catalogs:
        warn_repaired(catalog)
    previous: dict[str, PreviousModel] = {}
    items: dict[str, CatalogItem] = {}
    if has_schema(engine):
        with Session(engine) as session:
            previous = state.load_previous(session)
            items = state.load_items(session, list(previous))
            session.rollback()
    results = []
    grace = policy.removal_grace_runs
    for catalog in catalogs:
        changes = diff_catalog(previous, items, catalog.items, removal_grace_runs=grace)
        check_mass_removal(changes, sum(m.active for m in previous.values()), policy)
        results.append(changes)
        previous, items = state_after(previous, items, catalog.items, removal_grace_runs=grace)
    return results


def has_schema(engine: Engine) -> bool:
    """True when the database exists at the newest schema; never creates a SQLite file."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        return False
    revision = migrate.current_revision(engine)
    if revision is not None and revision != migrate.HEAD_REVISION:
        raise UsageError("the database schema is behind; run `catalog-sync db upgrade` first")
    return revision is not None
