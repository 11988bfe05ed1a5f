"""What each MCP tool answers, asked of the code the CLI asks (analysts.queries,
analysts.cost, analysts.usage) and returned as the CLI's JSON: the same keys,
exact decimals as numbers, times as ISO 8601 UTC (`analysts.render.dumps`).

Every list is bounded: at most `limit` rows (`MAX_LIMIT` at most), with
`truncated` true when there were more and `total` the full count, so that one
call cannot flood an assistant's context. Bad input is a `UsageError` naming
what is wrong (the server turns it into a tool error).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from catalog_sync.analysts import queries
from catalog_sync.analysts.cost import Pricer, cheapest
from catalog_sync.analysts.render import dumps
from catalog_sync.analysts.usage import compare as compare_mix
from catalog_sync.analysts.usage import priced_rows, summary_rows
from catalog_sync.analysts.usage_log import usage_record
from catalog_sync.errors import UsageError
from catalog_sync.storage.rates import chosen_currency
from catalog_sync.timeparse import parse_moment

MAX_LIMIT = 500  # rows in one answer, whatever limit is asked
MAX_RECORDS = 1000  # usage records in one reprice_usage call


def as_json(value: Any) -> Any:
    """`value` as the CLI's JSON output parses: plain JSON types."""
    return json.loads(dumps(value))


def bounded(rows: Sequence[Any], limit: int, **extra: Any) -> dict[str, Any]:
    """{"rows": the first `limit`, "truncated", "total"} (and `extra`), as JSON."""
    if limit < 1:
        raise UsageError(f"limit must be 1 or more, got {limit}")
    kept = min(limit, MAX_LIMIT)
    return {
        "rows": as_json(list(rows[:kept])),
        "truncated": len(rows) > kept,
        "total": len(rows),
        **as_json(extra),
    }


def moment(text: str | None, *, now: dt.datetime, name: str) -> dt.datetime | None:
    return None if text is None else parse_moment(text, now=now, option=name)


def list_models(
    connection: Connection,
    *,
    type: str | None,
    provider: str | None,
    tag: str | None,
    include_removed: bool,
    limit: int,
) -> dict[str, Any]:
    rows = queries.list_models(
        connection,
        type=type,
        provider=provider,
        tag=tag,
        capabilities=[],
        include_removed=include_removed,
    )
    return bounded(rows, limit)


def model_history(connection: Connection, name: str, *, limit: int) -> dict[str, Any]:
    """`history MODEL`'s JSON, its periods and changes each bounded (the newest kept)."""
    found = queries.model_history(connection, name)
    periods, changes = found["periods"], found["changes"]
    kept = min(limit, MAX_LIMIT)
    return {
        "model": as_json(found["model"]),
        "periods": as_json(periods[-kept:]),
        "changes": as_json(changes[-kept:]),
        "truncated": len(periods) > kept or len(changes) > kept,
    }


def changes(
    connection: Connection,
    *,
    since: str | None,
    until: str | None,
    kind: str,
    limit: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """`changes`' JSON, oldest first; the newest `limit` when there are more."""
    if kind not in queries.KIND_GROUPS:
        raise UsageError(f"kind must be one of {', '.join(queries.KIND_GROUPS)}, got {kind!r}")
    rows = queries.list_changes(
        connection,
        since=moment(since, now=now, name="since"),
        until=moment(until, now=now, name="until"),
        kind=kind,
    )
    kept = min(max(limit, 1), MAX_LIMIT)
    return {**bounded(rows[-kept:], limit), "truncated": len(rows) > kept, "total": len(rows)}


def movers(
    connection: Connection, *, since: str | None, until: str | None, limit: int, now: dt.datetime
) -> dict[str, Any]:
    start, end = queries.movers_window(
        moment(since, now=now, name="since"), moment(until, now=now, name="until"), now=now
    )
    rows = queries.price_movers(connection, since=start, until=end)
    return bounded(rows, limit, since=start, until=end)


def prices_at(
    connection: Connection, *, at: str, compare: str | None, limit: int, now: dt.datetime
) -> dict[str, Any]:
    when = parse_moment(at, now=now, option="at")
    if compare is None:
        return bounded(queries.prices_as_of(connection, when), limit, at=when)
    other = parse_moment(compare, now=now, option="compare")
    rows = queries.compare_prices(connection, when, other)
    return bounded(rows, limit, at=when, compare=other)


def priced_at(
    connection: Connection, at: str | None, currency: str | None, default: str, now: dt.datetime
) -> tuple[Pricer, dt.datetime]:
    """The pricer in the chosen currency, and the moment priced (default now)."""
    pricer = Pricer(connection, currency=chosen_currency(currency, default))
    return pricer, moment(at, now=now, name="at") or now


def given_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Parameter values as the CLI's `-p KEY=VALUE` gives them: text (a number
    or a boolean in its JSON spelling), read by the model's types."""
    given = {}
    for key, value in (params or {}).items():
        if isinstance(value, dict | list) or value is None:
            raise UsageError(f"params.{key}: a value is a string, a number or a boolean")
        given[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return given


def cost(
    connection: Connection,
    *,
    model: str,
    params: Mapping[str, Any] | None,
    at: str | None,
    count: int,
    currency: str | None,
    default_currency: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """`cost MODEL`'s record (its JSON array's one element)."""
    pricer, when = priced_at(connection, at, currency, default_currency, now)
    return dict(as_json(pricer.record(model, given_params(params), when, count=count)))


def cheapest_models(
    connection: Connection,
    *,
    params: Mapping[str, Any] | None,
    type: str | None,
    provider: str | None,
    at: str | None,
    count: int,
    currency: str | None,
    default_currency: str,
    limit: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """`cost -p ...`'s records: priced cheapest first, then the unpriced."""
    pricer, when = priced_at(connection, at, currency, default_currency, now)
    rows = cheapest(pricer, given_params(params), when, type=type, provider=provider, count=count)
    return bounded(rows, limit)


def reprice_usage(
    connection: Connection,
    records: Sequence[Mapping[str, Any]],
    *,
    at: str | None,
    compare: str | None,
    rows: bool,
    currency: str | None,
    default_currency: str,
    limit: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """`cost --usage`'s JSON for records given inline (each as one line of a
    JSON Lines log): the summary, the comparison, or one row per record."""
    if len(records) > MAX_RECORDS:
        raise UsageError(
            f"{len(records)} records: at most {MAX_RECORDS} in one call"
            " (for a larger log, `catalog-sync cost --usage FILE`)"
        )
    when, other = moment(at, now=now, name="at"), moment(compare, now=now, name="compare")
    if when is not None and other is not None:
        raise UsageError("give at or compare, not both (at reprices all of it at one moment)")
    if other is not None and rows:
        raise UsageError("compare sums per model: drop rows")
    answer = Pricer(connection, currency=chosen_currency(currency, default_currency))
    usage = _records(records)
    if rows:
        return bounded(list(priced_rows(answer, usage, at=when)), limit)
    if other is not None:
        found, _ = compare_mix(answer, usage, other)
    else:
        summary, _ = summary_rows(answer, usage, at=when)
        found = list(summary)
    # The overall row (model "(all)", last) is the answer: kept whatever the limit.
    return bounded(found, limit, overall=found[-1] if found else None)


def _records(records: Iterable[Mapping[str, Any]]) -> Iterable[Any]:
    return [usage_record(line, record) for line, record in enumerate(records, start=1)]
