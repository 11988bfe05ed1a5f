"""The report's "what our usage would cost" section (`report --usage FILE`): the
log repriced per model at the prices of each record's own time, and a chart of
what the whole mix would have cost at the prices of each day (a generation the
prices of a day did not cover is left out of that day, and the chart says how
many were)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from catalog_sync.analysts.cost import Pricer
from catalog_sync.analysts.render import plot_text
from catalog_sync.analysts.usage import SUMMARY_COLUMNS, summarise
from catalog_sync.analysts.usage_log import UsageRecord, read_usage
from catalog_sync.core.costing import PointError
from catalog_sync.errors import UsageError

# One entry per distinct model and parameters: a record that names them, and
# the generations of all such records.
Mix = dict[tuple[str, str], tuple[UsageRecord, int]]


def usage_section(
    go: Any, connection: Connection, path: Path, *, now: dt.datetime, days: int, config: Any
) -> tuple[list[dict[str, Any]], list[str], str]:
    """The summary rows, their columns, and the chart's HTML."""
    with path.open(encoding="utf-8-sig") as stream:
        summary, _ = summarise(Pricer(connection), read_usage(stream))
    with path.open(encoding="utf-8-sig") as stream:
        mix: Mix = {}
        for record in read_usage(stream):
            if record.problem is None and record.model is not None:
                key = (record.model, repr(sorted(record.params.items(), key=repr)))
                first, generations = mix.get(key, (record, 0))
                mix[key] = (first, generations + record.count)
    columns = [c for c in SUMMARY_COLUMNS if c not in ("amount", "unrated")]
    return (
        summary,
        columns,
        _chart(go, Pricer(connection), mix, now, days).to_html(
            full_html=False, include_plotlyjs=False, config=config
        ),
    )


def _chart(go: Any, pricer: Pricer, mix: Mix, now: dt.datetime, days: int) -> Any:
    start = (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    moments = [start + dt.timedelta(days=n) for n in range(days + 1)]
    totals, left_out = [], []
    for moment in moments:
        total, unpriced = 0.0, 0
        for record, generations in mix.values():
            cost = _cost(pricer, record, moment)
            if cost is None:
                unpriced += generations
            else:
                total += cost * generations
        totals.append(total)
        left_out.append(unpriced)
    figure = go.Figure(
        go.Scatter(
            x=moments,
            y=totals,
            mode="lines",
            line={"shape": "hv"},
            name=plot_text("the usage mix"),
            text=[f"{n} generation(s) unpriced that day" for n in left_out],
        )
    )
    figure.update_layout(
        width=1100,
        height=380,
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        yaxis_title="credits at that day's prices",
        xaxis_title="day (UTC)",
        template="plotly_white",
    )
    return figure


def _cost(pricer: Pricer, record: UsageRecord, moment: dt.datetime) -> float | None:
    """One generation of the record's point at `moment`, or None (unknown, unpriced),
    as `cost --usage --at` prices it (analysts.usage)."""
    assert record.model is not None
    try:
        facts, point, unknown = pricer.usage_point(
            record.model, record.params, moment, record.settings
        )
    except (UsageError, PointError):
        return None
    answer = pricer.answer(facts, point, moment)
    return answer.cost if answer.priced and not unknown else None
