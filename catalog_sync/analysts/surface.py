"""The price surface in the HTML report: for each model with price points, the
cost of one generation against duration, a line per resolution and setting, as
it is now (solid) and as it was when first quoted (dotted), where they differ."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from catalog_sync.analysts.render import plot_text
from catalog_sync.storage.schema import Model, PricePoint

MAX_MODELS = 30


def surface_charts(go: Any, connection: Connection, *, config: dict[str, Any]) -> list[str]:
    """One chart (HTML, without plotly's script) per model whose points vary by duration;
    models whose points were re-priced first."""
    rows = connection.execute(
        select(
            Model.name,
            PricePoint.params,
            PricePoint.cost_per_generation,
            PricePoint.valid_from,
            PricePoint.valid_to,
        )
        .join(Model, Model.id == PricePoint.model_id)
        .where(Model.removed_at.is_(None))
        .order_by(Model.name, PricePoint.valid_from)
    ).all()
    by_model: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if _duration(json.loads(row.params)) is not None:
            by_model[row.name].append(row)
    ranked = sorted(by_model, key=lambda name: (-_changes(by_model[name]), name))
    return [
        _chart(go, name, by_model[name]).to_html(
            full_html=False, include_plotlyjs=False, config=config
        )
        for name in ranked[:MAX_MODELS]
    ]


def _changes(rows: list[Any]) -> int:
    return len(rows) - len({row.params for row in rows})


def _chart(go: Any, name: str, rows: list[Any]) -> Any:
    figure = go.Figure()
    first = min(row.valid_from for row in rows)
    now_lines = _lines(row for row in rows if row.valid_to is None)
    then_lines = _lines(row for row in rows if row.valid_from <= first < (row.valid_to or _END))
    for label, points in sorted(now_lines.items()):
        xs, ys = zip(*sorted(points), strict=True)
        figure.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines+markers", name=plot_text(f"{label} (now)"))
        )
        if then_lines.get(label) and sorted(then_lines[label]) != sorted(points):
            old_x, old_y = zip(*sorted(then_lines[label]), strict=True)
            figure.add_trace(
                go.Scatter(
                    x=old_x,
                    y=old_y,
                    mode="lines",
                    line={"dash": "dot"},
                    name=plot_text(f"{label} ({first:%Y-%m-%d})"),
                )
            )
    changed = _changes(rows)
    figure.update_layout(
        title=plot_text(
            f"{name}: cost per generation by duration"
            + (f" ({changed} re-priced points)" if changed else "")
        ),
        xaxis_title="duration (s)",
        yaxis_title="credits",
        width=900,
        height=380,
        template="plotly_white",
    )
    return figure


_END = dt.datetime.max.replace(tzinfo=dt.UTC)


def _lines(rows: Any) -> dict[str, list[tuple[float, float]]]:
    """(duration, cost) points grouped by the rest of their params."""
    lines: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        params = json.loads(row.params)
        duration = _duration(params)
        if duration is None:
            continue
        params.pop("duration")
        label = ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "default"
        lines[label].append((duration, float(row.cost_per_generation)))
    return lines


def _duration(params: Any) -> float | None:
    """A point's duration in seconds, when it has a number for one (a setting may
    be spelled "duration", or hold a duration such as "5s": not charted)."""
    value = params.get("duration") if isinstance(params, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
