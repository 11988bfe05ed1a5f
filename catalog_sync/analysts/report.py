"""`catalog-sync report`: one self-contained HTML page of the price history.

Step charts (plotly, its script embedded so the page works offline), a table of
recent changes and a summary of the catalog by type and provider.
"""

from __future__ import annotations

import datetime as dt
import html
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from catalog_sync.analysts.queries import list_changes
from catalog_sync.analysts.render import cell_text, plot_text
from catalog_sync.analysts.surface import surface_charts
from catalog_sync.errors import UsageError
from catalog_sync.storage.schema import CostPeriod, Model

CHART_WIDTH = 1100
CHART_HEIGHT = 460
MAX_MODEL_LINES = 25


def build_report(
    connection: Connection, *, now: dt.datetime, days: int = 30, usage: Path | None = None
) -> str:
    """The whole page as a string; `usage`: a usage log for "what our usage
    would cost" (analysts.report_usage)."""
    try:
        import plotly.graph_objects as go
    except ImportError as exc:
        raise UsageError(
            f"the report needs plotly, a dependency of catalog-sync that is missing here ({exc}); "
            "reinstall catalog-sync, or: pip install plotly"
        ) from exc
    periods = [
        row._asdict()
        for row in connection.execute(
            select(
                Model.name,
                Model.provider,
                Model.type,
                CostPeriod.base_cost,
                CostPeriod.valid_from,
                CostPeriod.valid_to,
            )
            .join(Model, Model.id == CostPeriod.model_id)
            .order_by(Model.name, CostPeriod.valid_from)
        )
    ]
    by_provider = _provider_chart(go, periods, now)
    by_model = _model_chart(go, periods, now)
    recent = list_changes(connection, since=now - dt.timedelta(days=days))
    summary = _summary(periods)
    parts = [
        _HEAD.format(generated=f"{now:%Y-%m-%d %H:%M} UTC"),
        "<h2>Average base cost by provider</h2>",
        by_provider.to_html(full_html=False, include_plotlyjs=True, config=_CONFIG),
        "<h2>Models whose price changed</h2>",
        by_model.to_html(full_html=False, include_plotlyjs=False, config=_CONFIG)
        if by_model is not None
        else "<p>No model has changed price yet.</p>",
        f"<h2>Changes in the last {days} days</h2>",
        _html_table(
            recent,
            ["changed_at", "name", "provider", "kind", "field", "old_value", "new_value"],
        ),
        "<h2>Price points: cost by duration</h2>",
        *(
            surface_charts(go, connection, config=_CONFIG)
            or ["<p>No price points yet (pricing.enabled).</p>"]
        ),
        "<h2>Catalog summary (active models)</h2>",
        _html_table(summary, ["type", "provider", "models", "min_cost", "avg_cost", "max_cost"]),
        *(_usage_parts(go, connection, usage, now=now, days=days) if usage else []),
        "</body></html>",
    ]
    return "\n".join(parts)


def _usage_parts(
    go: Any, connection: Connection, usage: Path, *, now: dt.datetime, days: int
) -> list[str]:
    from catalog_sync.analysts.report_usage import usage_section

    rows, columns, chart = usage_section(
        go, connection, usage, now=now, days=max(days, 30), config=_CONFIG
    )
    return [
        f"<h2>What our usage would cost ({html.escape(usage.name)})</h2>",
        "<p>Repriced at the prices in force when each generation ran; credits, charged "
        "and residual are over the priced records only.</p>",
        _html_table(rows, columns),
        "<h3>The same mix at the prices of each day</h3>",
        chart,
    ]


# typesetMath off: a `$...$` in a model's name is text, never MathJax.
_CONFIG = {"responsive": False, "displaylogo": False, "typesetMath": False}

_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Hoox catalog: price history</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2rem; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }}
th {{ background: #f4f4f4; }}
</style></head><body>
<h1>Hoox catalog: price history</h1>
<p>Generated {generated} by catalog-sync. Costs are base costs in credits.</p>
"""


def _steps(
    points: Sequence[tuple[dt.datetime, dt.datetime | None, float]], now: dt.datetime
) -> tuple[list[Any], list[Any]]:
    """x/y of a step line through periods; a gap (None) where the model was absent."""
    xs: list[Any] = []
    ys: list[Any] = []
    for start, end, cost in points:
        if xs and xs[-1] != start:
            xs.append(start)
            ys.append(None)
        xs += [start, end or now]
        ys += [cost, cost]
    return xs, ys


def _provider_chart(go: Any, periods: list[dict[str, Any]], now: dt.datetime) -> Any:
    figure = go.Figure()
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for period in periods:
        grouped[period["provider"] or "(none)"].append(period)
    for provider, rows in sorted(grouped.items()):
        moments = sorted(
            {r["valid_from"] for r in rows} | {r["valid_to"] for r in rows if r["valid_to"]}
        )
        xs, ys = [], []
        for moment in moments:
            live = [
                r["base_cost"]
                for r in rows
                if r["valid_from"] <= moment and (r["valid_to"] is None or r["valid_to"] > moment)
            ]
            xs.append(moment)
            ys.append(round(statistics.fmean(live), 4) if live else None)
        xs.append(now)
        ys.append(ys[-1] if ys else None)
        figure.add_trace(
            go.Scatter(x=xs, y=ys, name=plot_text(provider), mode="lines", line_shape="hv")
        )
    _layout(figure, "average base cost (credits)")
    return figure


def _model_chart(go: Any, periods: list[dict[str, Any]], now: dt.datetime) -> Any | None:
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for period in periods:
        by_model[period["name"]].append(period)
    changed = {
        name: rows for name, rows in by_model.items() if len({r["base_cost"] for r in rows}) > 1
    }
    if not changed:
        return None
    busiest = sorted(changed, key=lambda name: (-len(changed[name]), name))[:MAX_MODEL_LINES]
    figure = go.Figure()
    for name in sorted(busiest):
        points = [(r["valid_from"], r["valid_to"], r["base_cost"]) for r in changed[name]]
        xs, ys = _steps(points, now)
        figure.add_trace(
            go.Scatter(
                x=xs, y=ys, name=plot_text(name), mode="lines", line_shape="hv", connectgaps=False
            )
        )
    _layout(figure, "base cost (credits)")
    return figure


def _layout(figure: Any, y_title: str) -> None:
    figure.update_layout(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        yaxis_title=y_title,
        xaxis_title="time (UTC)",
        legend={"orientation": "v"},
        template="plotly_white",
    )


def _summary(periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for period in periods:
        if period["valid_to"] is None:
            groups[(period["type"] or "", period["provider"] or "")].append(period["base_cost"])
    return [
        {
            "type": type_,
            "provider": provider,
            "models": len(costs),
            "min_cost": min(costs),
            "avg_cost": round(statistics.fmean(costs), 2),
            "max_cost": max(costs),
        }
        for (type_, provider), costs in sorted(groups.items())
    ]


def _html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell_text(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
