"""The change feed: an Atom 1.0 document of the catalog's news, newest first.

One entry per change a person subscribes to:

- ``price``: a base-cost change (``catalog_changes``, kind ``updated``, field
  ``base_cost``), titled ``veo-3.1: 32 -> 28 credits (-12.5%)``;
- ``price_point``: a re-priced price point (a ``price_points`` period whose cost
  differs from the previous period of the same model and params, as the
  ``price_point_changes`` view counts them), titled
  ``veo-3.1-flf 8s 1080p: 28.8 -> 36 credits (+25%)``;
- ``added``, ``removed``, ``restored``: the lifecycle changes of
  ``catalog_changes``, titled ``added flux-2-pro at 2 credits``,
  ``removed grok-imagine-video-edit``, ``restored grok-imagine-video-edit at 5 credits``;
- ``alert``: an ``alerts_fired`` row of a rule that asks for it (``feed = true``),
  titled ``alert 'video dearer': veo-3.1: 28 -> 32 credits (+14.29%)``, at the
  time it fired.

Identifiers are tag URIs (RFC 4151) minted under the tagging entity
``catalog-sync,2026`` (a fixed authority name and date, so that they never
change) and made unique per database by its identity, the UUID kept in
``database_identity`` (``storage.identity.database_uuid``, made on first use)::

    tag:catalog-sync,2026:<database-uuid>/feed                  the feed
    tag:catalog-sync,2026:<database-uuid>/catalog_changes/<id>  price, added, removed, restored
    tag:catalog-sync,2026:<database-uuid>/price_points/<id>     a re-priced point (its new period)
    tag:catalog-sync,2026:<database-uuid>/alerts_fired/<id>     a rule that fired

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

The changes are read by ``storage.changelog`` (the one reader of the change
log), worded by ``catalog_sync.wording``, and the file is written by
``catalog_sync.files.write_atomically``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog_sync import __version__
from catalog_sync.clock import as_utc
from catalog_sync.errors import StoreError, UsageError, first_line
from catalog_sync.files import FileWriteError, write_atomically
from catalog_sync.shown import one_line
from catalog_sync.storage import alerts as fired
from catalog_sync.storage.changelog import MAX_ENTRIES, Change, read_changes
from catalog_sync.storage.identity import database_uuid
from catalog_sync.storage.migrate import current_revision
from catalog_sync.wording import cost_delta, cost_move, credits, point_label

DEFAULT_DAYS = 30  # the window when no `since` is given
TAG_AUTHORITY = "tag:catalog-sync,2026:"
FEED_TITLE = "catalog-sync: Hoox catalog changes"


@dataclass(frozen=True)
class FiredAlert:
    """An `alerts_fired` row as a feed entry: the rule and the change it matched."""

    id: int
    alert: str
    fired_at: dt.datetime
    change: Change
    kind: str = "alert"
    table: str = "alerts_fired"

    @property
    def changed_at(self) -> dt.datetime:  # the entry's time: when the rule fired
        return self.fired_at


Entry = Change | FiredAlert

# --- rendering (pure) --------------------------------------------------------------


def entry_title(change: Entry) -> str:
    """The line a person reads in the feed reader's list."""
    if isinstance(change, FiredAlert):
        return f"alert {one_line(repr(change.alert))}: {entry_title(change.change)}"
    name = one_line(change.name)
    if change.kind == "price":
        return f"{name}: {_costs(change)}"
    if change.kind == "price_point":
        return f"{name} {one_line(point_label(change.params or '{}'))}: {_costs(change)}"
    if change.kind == "removed":
        return f"removed {name}"
    at = "" if change.new_cost is None else f" at {credits(change.new_cost)} credits"
    return f"{change.kind} {name}{at}"


def _costs(change: Change) -> str:
    return one_line(cost_move(change.old_cost, change.new_cost))


def entry_summary(change: Entry) -> str:
    """Plain text: which model, what changed, the run and the observation time."""
    if isinstance(change, FiredAlert):
        fired_at = change.fired_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        rule = one_line(repr(change.alert))
        return f"The alert {rule} fired at {fired_at}: {entry_summary(change.change)}"
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
    return one_line(f"{what} Sync run {change.sync_run_id}, observed {observed}.")


def _delta(old: Any, new: Any) -> str:
    """` (-4 credits, -12.5%)`."""
    delta = cost_delta(old, new)
    return f" ({delta})" if delta else ""


def _at(cost: Any, words: str) -> str:
    return "." if cost is None else f" {words} {credits(cost)} credits."


def entry_id(database_id: str, change: Entry) -> str:
    """`tag:catalog-sync,2026:<database-uuid>/<table>/<id>`."""
    return f"{_tag(database_id)}/{change.table}/{change.id}"


def feed_id(database_id: str) -> str:
    return f"{_tag(database_id)}/feed"


def _tag(database_id: str) -> str:
    return f"{TAG_AUTHORITY}{uuid.UUID(database_id)}"  # its canonical form, whatever is stored


def build_feed(changes: Sequence[Entry], *, database_id: str, now: dt.datetime) -> bytes:
    """The Atom 1.0 document (UTF-8) of `changes`, in their order (newest first)."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(feed_id(database_id))
    feed.title(FEED_TITLE)
    feed.subtitle(
        "Price changes, re-priced price points, added, removed and restored models"
        " (and the alerts that ask for it), newest first."
    )
    feed.author({"name": "catalog-sync"})
    feed.generator("catalog-sync", version=__version__)  # no uri: the feed links nowhere
    feed.language("en")
    feed.updated(max((c.changed_at for c in changes), default=as_utc(now)))
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
    alerts: Sequence[str] = (),
) -> int:
    """Write the feed of the changes since `since` (default: the last DEFAULT_DAYS
    days), and of the firings of the rules named in `alerts`, to `path`,
    atomically; the number of entries."""
    start = since if since is not None else now - dt.timedelta(days=DEFAULT_DAYS)
    if current_revision(engine) is None:
        raise StoreError("the database has no catalog yet; run `catalog-sync sync` first")
    try:
        database_id = database_uuid(engine, now=now)
        with engine.connect() as connection:
            entries: list[Entry] = [*read_changes(connection, since=start, limit=limit)]
            entries += _fired_alerts(connection, alerts, since=start, limit=limit)
        entries.sort(key=lambda entry: entry.changed_at, reverse=True)  # stable: ties kept
        entries = entries[:limit]
    except SQLAlchemyError as exc:
        raise StoreError(f"database error: {first_line(exc)}") from exc
    try:
        write_atomically(
            path, build_feed(entries, database_id=database_id, now=now), skip_unchanged=True
        )
    except FileWriteError as exc:
        raise UsageError(f"cannot write the feed {exc.path}: {exc.reason}") from exc
    return len(entries)


def _fired_alerts(
    connection: Connection, alerts: Sequence[str], *, since: dt.datetime, limit: int
) -> list[FiredAlert]:
    """The firings of these rules from `since`, newest first, as entries."""
    if not alerts or not inspect(connection).has_table("alerts_fired"):
        return []  # no rule asks, or a database older than alerts
    with Session(bind=connection) as session:
        rows = fired.firings_since(session, alerts, since=since, limit=limit)
    return [
        FiredAlert(id, alert, fired_at, _change_of(detail)) for id, alert, fired_at, detail in rows
    ]


def _change_of(detail: dict[str, Any]) -> Change:
    """The change an `alerts_fired.detail` tells (core.alerting.detail)."""
    return Change(
        kind=detail["kind"],
        table="alerts_fired",
        id=0,
        changed_at=dt.datetime.fromisoformat(detail["changed_at"]),
        sync_run_id=int(detail["sync_run_id"]),
        name=detail["model"],
        label=detail.get("label"),
        provider=detail.get("provider"),
        type=detail.get("type"),
        old_cost=detail.get("old_cost"),
        new_cost=detail.get("new_cost"),
        params=detail.get("params"),
    )
