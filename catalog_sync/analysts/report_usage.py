"""The report's "what our usage would cost" section (`report --usage FILE`): the
log repriced per model at the prices of each record's own time, and a chart of
what the whole mix would have cost at the prices of each day (a generation the
prices of a day did not cover is left out of that day, and the chart says how
many were)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from catalog_sync.analysts.cost import Pricer
from catalog_sync.analysts.render import plot_text
from catalog_sync.analysts.usage import SUMMARY_COLUMNS, summarise
from catalog_sync.analysts.usage_log import read_usage
from catalog_sync.core.costing import PointError
from catalog_sync.errors import UsageError

Mix = Counter[tuple[str, tuple[tuple[str, str], ...]]]


def usage_section(
    go: Any, connection: Connection, path: Path, *, now: dt.datetime, days: int, config: Any
) -> tuple[list[dict[str, Any]], list[str], str]:
    """The summary rows, their columns, and the chart's HTML."""
    with path.open(encoding="utf-8") as stream:
        summary, _ = summarise(Pricer(connection), read_usage(stream))
    with path.open(encoding="utf-8") as stream:
        mix: Mix = Counter()
        for record in read_usage(stream):
            if record.problem is None and record.model is not None:
                given = tuple(sorted((k, str(v)) for k, v in record.params.items()))
                mix[(record.model, given)] += record.count
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
        for (model, given), generations in mix.items():
            cost = _cost(pricer, model, dict(given), moment)
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


def _cost(pricer: Pricer, model: str, given: dict[str, str], moment: dt.datetime) -> float | None:
    """One generation of that point at `moment`, or None (unknown, unpriced)."""
    try:
        facts = pricer.model(model)
        keys = {d.key for d in facts.params_at(moment).dimensions}
        point = pricer.point(facts, {k: v for k, v in given.items() if k in keys}, moment)
    except (UsageError, PointError):
        return None
    answer = pricer.answer(facts, point, moment)
    return answer.cost if answer.priced else None
