"""Reading models for the cost questions (`analysts.model_facts.ModelFacts`):
one model, the models of a batch of names, or every model at once, each with
a few set-based queries (periods, details, rolled-back changes, quotes), never
one per model; and small: moments and names shared, parameters shared."""

from __future__ import annotations

import datetime as dt
import difflib
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, or_, select, true

from catalog_sync.analysts.model_facts import ROLLED_BACK, SHARED, ModelFacts, parameters
from catalog_sync.clock import as_utc
from catalog_sync.core.costing import Period, Timeline
from catalog_sync.core.details import DetailFailure, Details, details_from
from catalog_sync.errors import UsageError
from catalog_sync.storage import confirmation
from catalog_sync.storage.bulk import chunks
from catalog_sync.storage.schema import CatalogChange, CostPeriod, Model, ModelDetails, PricePoint

BATCH = 2000  # models read per set of queries (IN lists of 2000: SQLite allows 32766)
# Shared by every model without changes / without quotes (never changed in place).
NONE: list[tuple[dt.datetime, str, Any]] = []
NO_QUOTES: dict[str, Timeline] = {}
# A model's capabilities only (not its whole item): what its parameters come from.
_MODEL = select(
    Model.id, Model.name, Model.provider, Model.type, Model.raw["capabilities"].label("caps")
)


def load_model(connection: Connection, name: str) -> ModelFacts:
    """Everything the cost questions read of one model; UsageError naming the
    closest names when there is no such model."""
    found = load_named(connection, [name])
    if name not in found:
        known = connection.scalars(select(Model.name)).all()
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown model {name!r}{hint}")
    return found[name]


def load_named(connection: Connection, names: Iterable[str]) -> dict[str, ModelFacts]:
    """The facts of the models of these names that exist, a few set-based
    queries per batch of names (a usage log names thousands of models)."""
    found: dict[str, ModelFacts] = {}
    for batch in chunks(sorted(set(names)), BATCH):
        rows = connection.execute(_MODEL.where(Model.name.in_(batch))).all()
        ids = [row.id for row in rows]
        found.update((facts.name, facts) for facts in _facts(connection, ids, rows))
    return found


def load_models(
    connection: Connection, *, type: str | None = None, provider: str | None = None
) -> list[ModelFacts]:
    """Every model ever seen (of `type` / `provider`), by name."""
    query = _MODEL.order_by(Model.name)
    if type is not None:
        query = query.where(Model.type == type)
    if provider is not None:
        query = query.where(Model.provider == provider)
    rows = connection.execute(query).all()
    facts: list[ModelFacts] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        facts.extend(_facts(connection, [row.id for row in batch], batch))
    return facts


def load_all(connection: Connection) -> dict[str, ModelFacts]:
    """Every model's facts, each table read once whole: for a log that names
    much of a catalog, faster than many IN lists."""
    return {facts.name: facts for facts in _facts(connection, None, _every_model(connection))}


def _every_model(connection: Connection) -> Iterator[Any]:
    """Every `models` row, read when first asked for (after the other queries)."""
    yield from connection.execute(_MODEL)


def _facts(
    connection: Connection, ids: Sequence[int] | None, rows: Iterable[Any]
) -> Iterator[ModelFacts]:
    """The facts of the `models` rows `rows` gives (those of `ids`, or every
    one): their periods, details, rolled-back changes and quotes read first with
    one query each, then the rows one at a time (their items are not all held)."""

    def of_these(column: Any) -> Any:
        return true() if ids is None else column.in_(ids)

    periods: dict[int, list[Period]] = defaultdict(list)
    for model_id, *period in connection.execute(
        select(
            CostPeriod.model_id,
            CostPeriod.base_cost,
            CostPeriod.valid_from,
            CostPeriod.valid_to,
            confirmation.confirmed_at(),
        ).where(of_these(CostPeriod.model_id))
    ):
        periods[model_id].append(_period(*period))
    raws: dict[int, Any] = dict(
        connection.execute(
            select(ModelDetails.model_id, ModelDetails.raw).where(of_these(ModelDetails.model_id))
        ).all()
    )
    changes: dict[int, list[tuple[dt.datetime, str, Any]]] = defaultdict(list)  # few models
    for model_id, at, name, old in connection.execute(
        select(
            CatalogChange.model_id,
            CatalogChange.changed_at,
            CatalogChange.field,
            CatalogChange.old_value,
        )
        .where(
            of_these(CatalogChange.model_id),
            or_(*(CatalogChange.field.startswith(prefix) for prefix in ROLLED_BACK)),
        )
        .order_by(CatalogChange.changed_at, CatalogChange.id)
    ):
        changes[model_id].append((as_utc(at), name, old))
    quotes = _quotes(connection, ids)
    for row in rows:
        yield _made(
            row,
            Timeline(periods.pop(row.id, ())),
            raws.get(row.id),
            changes.get(row.id, NONE),
            quotes,
        )


def _made(
    row: Any,
    listed: Timeline,
    raw: Any,
    changes: list[tuple[dt.datetime, str, Any]],
    quotes: dict[int, dict[str, Timeline]],
) -> ModelFacts:
    item = {"capabilities": row.caps} if isinstance(row.caps, dict) else {}
    details = _details(raw, row.name)
    current = parameters(item, details, [])
    return ModelFacts(
        id=row.id,
        name=row.name,
        provider=_shared_text(row.provider),
        type=_shared_text(row.type),
        listed=listed,
        current=SHARED.setdefault(current, current),
        changes=changes,
        item=item if changes else None,
        details=details if changes else None,
        quotes=quotes.get(row.id, NO_QUOTES),
    )


def _quotes(connection: Connection, ids: Sequence[int] | None) -> dict[int, dict[str, Timeline]]:
    """The quote periods of these models, per model and point (params text)."""
    found: dict[int, dict[str, list[Period]]] = defaultdict(lambda: defaultdict(list))
    for model_id, params, *period in connection.execute(
        select(
            PricePoint.model_id,
            PricePoint.params,
            PricePoint.cost_per_generation,
            PricePoint.valid_from,
            PricePoint.valid_to,
            PricePoint.last_confirmed_at,
        ).where(true() if ids is None else PricePoint.model_id.in_(ids))
    ):
        found[model_id][params].append(_period(*period))
    return {
        model_id: {params: Timeline(periods) for params, periods in points.items()}
        for model_id, points in found.items()
    }


def _shared_text(text: str | None) -> str | None:
    """One string object per provider or type name, whatever reads it."""
    return None if text is None else sys.intern(text)


def _details(raw: Any, name: str) -> Details | None:
    try:
        return details_from(raw, name) if isinstance(raw, dict) else None
    except DetailFailure:
        return None


_MOMENTS: dict[Any, dt.datetime] = {}  # a run's moment is one object, whatever reads it


def _moment(value: Any) -> dt.datetime:
    moment = as_utc(value)
    found = _MOMENTS.get(moment)
    if found is None:
        if len(_MOMENTS) > 100_000:
            _MOMENTS.clear()
        found = _MOMENTS[moment] = moment  # the first of its value: the one kept
    return found


def _period(cost: Any, start: Any, end: Any, confirmed: Any) -> Period:
    return Period(
        float(cost),
        _moment(start),
        None if end is None else _moment(end),
        None if confirmed is None else _moment(confirmed),
    )
