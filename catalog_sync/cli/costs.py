"""What it cost: `cost` (one model, the cheapest for a workload, a usage log)
and `rates` (what a credit costs in money, effective-dated)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.cli.options import format_option, moment, read_database
from catalog_sync.clock import utcnow
from catalog_sync.errors import UsageError

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Connection

    from catalog_sync.analysts.cost import Pricer

ONE_COLUMNS = ("field", "value")
LIST_COLUMNS = (
    "model",
    "provider",
    "type",
    "params",
    "cost_per_generation",
    "total_cost",
    "basis",
    "source",
    "valid_from",
    "last_confirmed_at",
)


@cli.command()
@click.argument("model", required=False)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter of the point (repeatable), over the model's defaults at WHEN.",
)
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True)
@moment("--at", help="The moment priced (a date is its 00:00 UTC; default now).")
@click.option("--currency", metavar="CODE", help="Also in money ([cost] currency by default).")
@click.option("--strict", is_flag=True, help="Exit 3 when priced, but not `exact`.")
@click.option("--type", "model_type", help="Without MODEL: only models of this type.")
@click.option("--provider", help="Without MODEL: only models of this provider.")
@click.option(
    "--usage",
    type=click.File("r", encoding="utf-8-sig"),
    help="Reprice a usage log: CSV, JSON Lines or a JSON array ('-': standard input).",
)
@click.option("--rows", is_flag=True, help="With --usage: one output record per input record.")
@moment("--compare", help="With --usage: the mix at each record's time and at WHEN.")
@format_option
@click.pass_obj
def cost(app: AppContext, /, **options: Any) -> None:
    """What a generation cost at a moment, in credits (and money), and how sure
    that is (its basis: exact, boundary, unquoted_point, before_first_seen,
    removed). Without MODEL: every model whose grid held the given values then,
    cheapest first. With --usage: a usage log repriced, summed per model.

    Exit 0 priced, 1 not priced, 2 usage error; --strict: 3 when not exact.
    """
    from catalog_sync.storage.rates import chosen_currency

    currency = chosen_currency(options["currency"], app.config().cost.currency)
    when = _moment(options["at"], "--at")
    given = _given(options["params"])
    if options["usage"] is not None:
        code = _usage_command(app, options, currency, when)
    elif options["model"] is not None:
        code = _one(app, options, given, when or utcnow(), currency)
    else:
        code = _cheapest(app, options, given, when or utcnow(), currency)
    if code:
        sys.exit(code)


def _moment(text: str | None, option: str) -> dt.datetime | None:
    from catalog_sync.timeparse import parse_moment

    return None if text is None else parse_moment(text, now=utcnow(), option=option)


def _given(params: tuple[str, ...]) -> dict[str, str]:
    """`-p KEY=VALUE` pairs (values stay text: the model's types read them)."""
    given: dict[str, str] = {}
    for pair in params:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-p {pair!r}: write KEY=VALUE, e.g. -p duration=8")
        given[key.strip()] = value.strip()
    return given


def _pricer(connection: Connection, currency: str | None) -> Pricer:
    from catalog_sync.analysts.cost import Pricer

    return Pricer(connection, currency=currency)


def _one(
    app: AppContext, options: dict[str, Any], given: dict[str, str], when: Any, currency: Any
) -> int:
    from catalog_sync.analysts.render import emit

    record = read_database(
        app,
        lambda c: _pricer(c, currency).record(
            options["model"], given, when, count=options["count"]
        ),
    )
    if options["output_format"] == "table":
        rows = [{"field": k, "value": _shown(k, v)} for k, v in record.items() if v is not None]
        emit(rows, ONE_COLUMNS, "table")
    else:
        emit([record], list(record), options["output_format"])
    return _exit_code([record], strict=options["strict"])


def _cheapest(
    app: AppContext, options: dict[str, Any], given: dict[str, str], when: Any, currency: Any
) -> int:
    from catalog_sync.analysts.cost import cheapest
    from catalog_sync.analysts.render import emit

    records = read_database(
        app,
        lambda c: cheapest(
            _pricer(c, currency),
            given,
            when,
            type=options["model_type"],
            provider=options["provider"],
            count=options["count"],
        ),
    )
    table = options["output_format"] == "table"
    columns = list(LIST_COLUMNS) if table else list(records[0]) if records else list(LIST_COLUMNS)
    if table and currency:
        columns.append("amount")
    shown = [{**r, "params": _shown("params", r["params"])} for r in records] if table else records
    emit(shown, columns, options["output_format"])
    return 0 if any(r["cost_per_generation"] is not None for r in records) else 1


def _shown(key: str, value: Any) -> Any:
    """A record's value as a table shows it: a point labelled for people."""
    if key == "params" and isinstance(value, dict):
        from catalog_sync.core.pricing import params_text
        from catalog_sync.wording import point_label

        return point_label(params_text(value))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value


def _exit_code(records: list[dict[str, Any]], *, strict: bool) -> int:
    if any(r["cost_per_generation"] is None for r in records):
        return 1
    if strict and any(r["basis"] != "exact" for r in records):
        return 3
    return 0


def _usage_command(app: AppContext, options: dict[str, Any], currency: Any, when: Any) -> int:
    from catalog_sync.cli.usage_output import reprice_usage

    if options["model"] is not None or options["params"]:
        raise UsageError("--usage reads the models and parameters from the file: drop MODEL/-p")
    compare = _moment(options["compare"], "--compare")
    if compare is not None and when is not None:
        raise UsageError("--compare and --at: give one (--at reprices all of it at one moment)")
    if compare is not None and options["rows"]:
        raise UsageError("--compare sums per model: drop --rows")
    stream: IO[str] = options["usage"]
    return read_database(
        app,
        lambda c: reprice_usage(
            _pricer(c, currency),
            stream,
            at=when,
            compare=compare,
            rows=options["rows"],
            output_format=options["output_format"],
            strict=options["strict"],
        ),
    )


@cli.group()
def rates() -> None:
    """What a credit costs in money: periods per currency (SCD type 2), used by
    `cost --currency`. Never rewritten: a new rate closes the open one."""


@rates.command("set")
@click.argument("currency")
@click.argument("per_credit")
@moment("--from", help="When the rate takes effect (default now); after the open one's start.")
@click.option("--note", help="Why, or where the rate comes from (e.g. the plan).")
@click.pass_obj
def rates_set(app: AppContext, /, currency: str, per_credit: str, **options: Any) -> None:
    """CURRENCY costs PER_CREDIT per credit from --from on (an exact decimal,
    e.g. 0.0125); the open period of CURRENCY closes there."""
    from catalog_sync.flows.credit_rates import set_credit_rate
    from catalog_sync.storage.engine import opened

    now = utcnow()
    start = _moment(options["from"], "--from") or now
    with opened(app.config().database.url) as engine:
        made = set_credit_rate(
            engine, currency, per_credit, valid_from=start, note=options["note"], now=now
        )
    since = f"{made.valid_from:%Y-%m-%d %H:%M:%S} UTC"
    click.echo(f"{made.currency}: {made.per_credit} per credit from {since}")


@rates.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def rates_import(app: AppContext, path: Path) -> None:
    """Rates from a CSV file with the header currency,per_credit,valid_from[,note],
    applied in time order per currency; all or nothing (a bad line is named)."""
    from catalog_sync.flows.credit_rates import import_credit_rates
    from catalog_sync.storage.engine import opened

    with opened(app.config().database.url) as engine:
        count = import_credit_rates(engine, path, now=utcnow())
    click.echo(f"imported {count} rate period(s) from {path}")


@rates.command("list")
@format_option
@click.pass_obj
def rates_list(app: AppContext, output_format: str) -> None:
    """Every rate period, by currency and start (valid_to empty: open)."""
    import dataclasses

    from catalog_sync.analysts.render import emit
    from catalog_sync.storage.rates import list_rates

    def read(connection: Connection) -> list[Any]:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            return list_rates(session)

    periods = read_database(app, read)
    rows = [dataclasses.asdict(period) for period in periods]
    columns = ["currency", "per_credit", "valid_from", "valid_to", "source", "note", "recorded_at"]
    emit(rows, columns, output_format)
