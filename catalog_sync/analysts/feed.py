"""The change feed: an Atom 1.0 document of the catalog's news, newest first.

One entry per change a person subscribes to:

- ``price``: a base-cost change (``catalog_changes``, kind ``updated``, field
  ``base_cost``), titled ``veo-3.1: 32 -> 28 credits (-12.5 %)``;
- ``price_point``: a re-priced price point (a ``price_points`` period whose cost
  differs from the previous period of the same model and params, as the
  ``price_point_changes`` view counts them), titled
  ``veo-3.1-flf 8s 1080p: 28.8 -> 36 credits (+25 %)``;
- ``added``, ``removed``, ``restored``: the lifecycle changes of
  ``catalog_changes``, titled ``added flux-2-pro at 2 credits``,
  ``removed grok-imagine-video-edit``, ``restored grok-imagine-video-edit at 5 credits``.

Identifiers are tag URIs (RFC 4151) minted under the tagging entity
``catalog-sync,2026`` (a fixed authority name and date, so that they never
change) and made unique per database by its identity, the UUID kept in
``database_identity`` (``storage.identity.database_uuid``, made on first use)::

    tag:catalog-sync,2026:<database-uuid>/feed                  the feed
    tag:catalog-sync,2026:<database-uuid>/catalog_changes/<id>  price, added, removed, restored
    tag:catalog-sync,2026:<database-uuid>/price_points/<id>     a re-priced point (its new period)

A change's entry keeps its id across runs and rewrites of the file, and across
``copy`` (which carries the identity over); another database gives other ids.
``rebuild`` re-derives the rows under new ids: a reader then sees the history again.

The window: the changes since ``since`` (default: the last ``DEFAULT_DAYS`` days),
the ``MAX_ENTRIES`` newest at most, whatever ``since`` is. Each entry's
``updated`` is the change's observation time (UTC); the feed's is the newest
entry's (``now`` for an empty feed), so an unchanged history writes the same
bytes, and the file is then left as it is.

Text from the API is data: every string passes through ``shown.visible`` (control
and bidi characters become visible escapes; XML 1.0 could not hold most C0
controls anyway), and titles, summaries and content are Atom ``text`` constructs,
escaped by the XML writer, so a model named ``<script>`` is that text. The feed
has no link at all: it points nowhere outside (Atom's ``self`` link is a SHOULD,
an entry without an ``alternate`` link carries ``content``, as RFC 4287 requires).

One query per entry kind (SQLAlchemy Core, SQLite and PostgreSQL alike); the
file is written atomically (a temporary file in the same directory, then
``os.replace``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, select
from sqlalchemy.exc import SQLAlchemyError

from catalog_sync import __version__
from catalog_sync.analysts.points import POINT_CHANGES
from catalog_sync.core.details import point_label
from catalog_sync.errors import StoreError, UsageError, first_line
from catalog_sync.shown import visible
from catalog_sync.storage.identity import database_uuid
from catalog_sync.storage.migrate import current_revision
from catalog_sync.storage.schema import CatalogChange, CostPeriod, Model, PricePoint

DEFAULT_DAYS = 30  # the window when no `since` is given
MAX_ENTRIES = 500  # the newest changes at most, with or without `since`
TAG_AUTHORITY = "tag:catalog-sync,2026:"
FEED_TITLE = "catalog-sync: Hoox catalog changes"
KINDS = ("price", "price_point", "added", "removed", "restored")

# What `visible` leaves that a one-line title should not hold (tab, newline), and
# the two noncharacters XML 1.0 cannot hold at all.
_MORE = re.compile("[\t\n\ufffe\uffff]")


@dataclass(frozen=True)
class Change:
    """One entry's facts, as read from the database (API text as it is stored)."""

    kind: str  # one of KINDS
    table: str  # where `id` lives: catalog_changes or price_points
    id: int
    changed_at: dt.datetime
    sync_run_id: int
    name: str
    label: str | None
    provider: str | None
    type: str | None
    old_cost: Any  # credits; None for added, restored
    new_cost: Any  # credits; for removed: the last cost
    params: str | None = None  # a price point's canonical JSON


# --- reading ---------------------------------------------------------------------


def read_changes(
    connection: Connection, *, since: dt.datetime, limit: int = MAX_ENTRIES
) -> list[Change]:
    """The `limit` newest changes observed at or after `since`, newest first."""
    found: list[Change] = []
    for kind in KINDS:
        query = _points_query(since) if kind == "price_point" else _changes_query(kind, since)
        for row in connection.execute(query.limit(limit)):
            found.append(_change(kind, row._mapping))
    found.sort(key=lambda c: (c.name, KINDS.index(c.kind), c.id))
    found.sort(key=lambda c: c.changed_at, reverse=True)  # stable: ties keep the order above
    return found[:limit]


def _model_columns() -> tuple[Any, ...]:
    return (Model.name, Model.label, Model.provider, Model.type)


def _changes_query(kind: str, since: dt.datetime) -> Select[Any]:
    change = CatalogChange
    if kind == "price":
        query = select(
            change.id,
            change.changed_at,
            change.sync_run_id,
            *_model_columns(),
            change.old_value.label("old_cost"),
            change.new_value.label("new_cost"),
        ).where(change.kind == "updated", change.field == "base_cost")
    else:
        # The cost: of the period the change opened (added, restored) or closed (removed).
        moment = CostPeriod.valid_to if kind == "removed" else CostPeriod.valid_from
        query = (
            select(
                change.id,
                change.changed_at,
                change.sync_run_id,
                *_model_columns(),
                CostPeriod.base_cost.label("new_cost"),
            )
            .outerjoin(
                CostPeriod,
                and_(CostPeriod.model_id == change.model_id, moment == change.changed_at),
            )
            .where(change.kind == kind)
        )
    return (
        query.join(Model, Model.id == change.model_id)
        .where(change.changed_at >= since)
        .order_by(change.changed_at.desc(), change.id.desc())
    )


def _points_query(since: dt.datetime) -> Select[Any]:
    """Re-priced points: the price_point_changes view, each row with the id of
    the period it opened (a point's periods start at distinct runs)."""
    view = POINT_CHANGES.c
    point = PricePoint
    return (
        select(
            point.id,
            point.valid_from.label("changed_at"),
            point.sync_run_id,
            *_model_columns(),
            view.old_cost,
            view.new_cost,
            view.params,
        )
        .select_from(POINT_CHANGES)
        .join(
            point,
            and_(
                point.model_id == view.model_id,
                point.params == view.params,
                point.valid_from == view.changed_at,
            ),
        )
        .join(Model, Model.id == point.model_id)
        .where(point.valid_from >= since)
        .order_by(point.valid_from.desc(), point.id.desc())
    )


def _change(kind: str, row: Any) -> Change:
    return Change(
        kind=kind,
        table="price_points" if kind == "price_point" else "catalog_changes",
        id=int(row["id"]),
        changed_at=_utc(row["changed_at"]),
        sync_run_id=int(row["sync_run_id"]),
        name=row["name"],
        label=row["label"],
        provider=row["provider"],
        type=row["type"],
        old_cost=row.get("old_cost"),
        new_cost=row.get("new_cost"),
        params=row.get("params"),
    )


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):  # a driver that hands text back
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --- rendering (pure) --------------------------------------------------------------


def plain(text: str) -> str:
    """API text as one line XML 1.0 can hold: controls, bidi controls, tab,
    newline and the noncharacters U+FFFE/U+FFFF as visible escapes."""
    return _MORE.sub(_escape, visible(text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def credits(value: Any) -> str:
    """A cost for people: 32, 34.05, 0.15 (6 places at most)."""
    if not _is_number(value):
        return plain(str(value))
    if not math.isfinite(value) or abs(value) >= 1e15:
        return repr(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _signed(value: float) -> str:
    return f"+{credits(value)}" if value > 0 else credits(value)


def _pct(old: Any, new: Any) -> str | None:
    """`+25 %`; None when it has no meaning (an old cost of 0, not numbers)."""
    if not (_is_number(old) and _is_number(new)) or not old:
        return None
    if not (math.isfinite(old) and math.isfinite(new)):
        return None
    return f"{_signed(round((new - old) / old * 100, 2))} %"


def _percent(old: Any, new: Any) -> str:
    pct = _pct(old, new)
    return f" ({pct})" if pct else ""


def _delta(old: Any, new: Any) -> str:
    """` (-4 credits, -12.5 %)`."""
    if not (_is_number(old) and _is_number(new)):
        return ""
    pct = _pct(old, new)
    return f" ({_signed(round(new - old, 6))} credits{f', {pct}' if pct else ''})"


def entry_title(change: Change) -> str:
    """The line a person reads in the feed reader's list."""
    name = plain(change.name)
    if change.kind == "price":
        return f"{name}: {_costs(change)}"
    if change.kind == "price_point":
        return f"{name} {plain(point_label(change.params or '{}'))}: {_costs(change)}"
    if change.kind == "removed":
        return f"removed {name}"
    at = "" if change.new_cost is None else f" at {credits(change.new_cost)} credits"
    return f"{change.kind} {name}{at}"


def _costs(change: Change) -> str:
    old, new = change.old_cost, change.new_cost
    return f"{credits(old)} -> {credits(new)} credits{_percent(old, new)}"


def entry_summary(change: Change) -> str:
    """Plain text: which model, what changed, the run and the observation time."""
    about = [f"provider {change.provider}" if change.provider is not None else None]
    about.append(f"type {change.type}" if change.type is not None else None)
    if change.label is not None and change.label != change.name:
        about.insert(0, f'label "{change.label}"')
    described = ", ".join(a for a in about if a)
    model = f"{change.name} ({described})" if described else change.name
    old, new = change.old_cost, change.new_cost
    if change.kind == "price":
        what = f"Base cost of {model}: {credits(old)} -> {credits(new)} credits{_delta(old, new)}."
    elif change.kind == "price_point":
        point = f"{point_label(change.params or '{}')} (params {change.params})"
        what = (
            f"Cost of one generation of {model} at {point}: "
            f"{credits(old)} -> {credits(new)} credits{_delta(old, new)}."
        )
    elif change.kind == "added":
        what = f"{model} was added to the catalog" + _at(new, "at a base cost of")
    elif change.kind == "restored":
        what = f"{model} is back in the catalog" + _at(new, "at a base cost of")
    else:
        what = f"{model} left the catalog" + _at(new, "with a last base cost of")
    observed = change.changed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return plain(f"{what} Sync run {change.sync_run_id}, observed {observed}.")


def _at(cost: Any, words: str) -> str:
    return "." if cost is None else f" {words} {credits(cost)} credits."


def entry_id(database_id: str, change: Change) -> str:
    """`tag:catalog-sync,2026:<database-uuid>/<table>/<id>`."""
    return f"{_tag(database_id)}/{change.table}/{change.id}"


def feed_id(database_id: str) -> str:
    return f"{_tag(database_id)}/feed"


def _tag(database_id: str) -> str:
    return f"{TAG_AUTHORITY}{uuid.UUID(database_id)}"  # its canonical form, whatever is stored


def build_feed(changes: Sequence[Change], *, database_id: str, now: dt.datetime) -> bytes:
    """The Atom 1.0 document (UTF-8) of `changes`, in their order (newest first)."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(feed_id(database_id))
    feed.title(FEED_TITLE)
    feed.subtitle(
        "Price changes, re-priced price points, added, removed and restored models, newest first."
    )
    feed.author({"name": "catalog-sync"})
    feed.generator("catalog-sync", version=__version__)  # no uri: the feed links nowhere
    feed.language("en")
    feed.updated(max((c.changed_at for c in changes), default=_utc(now)))
    for change in changes:
        entry = feed.add_entry(order="append")
        entry.id(entry_id(database_id, change))
        entry.title(entry_title(change))
        entry.updated(change.changed_at)
        text = entry_summary(change)
        entry.summary(text, type="text")
        entry.content(text, type="text")  # an entry without a link must have content
        entry.category(term=change.kind)
    data: bytes = feed.atom_str(pretty=True)
    return data


# --- writing ------------------------------------------------------------------------


def write_feed(
    engine: Engine,
    path: Path,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    limit: int = MAX_ENTRIES,
) -> int:
    """Write the feed of the changes since `since` (default: the last DEFAULT_DAYS
    days) to `path`, atomically; the number of entries."""
    start = since if since is not None else now - dt.timedelta(days=DEFAULT_DAYS)
    if current_revision(engine) is None:
        raise StoreError("the database has no catalog yet; run `catalog-sync sync` first")
    try:
        database_id = database_uuid(engine, now=now)
        with engine.connect() as connection:
            changes = read_changes(connection, since=start, limit=limit)
    except SQLAlchemyError as exc:
        raise StoreError(f"database error: {first_line(exc)}") from exc
    _replace(path, build_feed(changes, database_id=database_id, now=now))
    return len(changes)


def _replace(path: Path, data: bytes) -> None:
    """`path` holds `data` (left alone when it does already), or it is unchanged."""
    try:
        if path.is_file() and path.read_bytes() == data:
            return
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).chmod(mode)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write the feed {path}: {exc.strerror or exc}") from exc
