"""`catalog-sync mcp`: the price history as a Model Context Protocol server over
stdio (the official `mcp` SDK, extra [mcp]), reading the database read-only.

Each tool is a question the CLI answers, answered by the same code
(`assistants.answers`), with the CLI's JSON keys. The names and descriptions
below are this module's own text: text from the API only ever appears in
results. A bad argument, an unknown model or a bad time is a tool error (the
call's `isError`), and the server keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import Field
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from catalog_sync import __version__
from catalog_sync.assistants import answers
from catalog_sync.assistants.arguments import (
    INSTRUCTIONS,
    WHEN,
    Count,
    Currency,
    Limit,
    Model,
    Moment,
    Params,
    Provider,
    Records,
    Since,
    Type,
    Until,
)
from catalog_sync.clock import utcnow
from catalog_sync.errors import CatalogSyncError, first_line

T = TypeVar("T")


def build_server(engine: Engine, *, default_currency: str = "") -> Any:
    """The MCP server and its eight tools, each answered on `engine` (read-only)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer(
        "catalog-sync", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    tools = Tools(engine, default_currency)
    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    for name in TOOL_NAMES:
        server.add_tool(getattr(tools, name), annotations=read_only, structured_output=True)
    return server


TOOL_NAMES = (
    "list_models",
    "model_history",
    "changes",
    "movers",
    "prices_at",
    "cost",
    "cheapest",
    "reprice_usage",
)


class Tools:
    """The tools, each a method: its signature is its input schema, its
    docstring its description (static text, never the API's)."""

    def __init__(self, engine: Engine, default_currency: str) -> None:
        self.engine = engine
        self.currency = default_currency

    def _ask(self, question: Callable[[Connection], T]) -> T:
        """Answer on a connection; a known failure is a ToolError with its message."""
        from mcp.server.mcpserver.exceptions import ToolError

        try:
            with self.engine.connect() as connection:
                return question(connection)
        except CatalogSyncError as exc:
            raise ToolError(str(exc)) from None
        except SQLAlchemyError as exc:
            logging.getLogger(__name__).debug("database error", exc_info=True)
            raise ToolError(f"database error: {first_line(exc)}") from None

    def list_models(
        self,
        *,
        type: Type = None,
        provider: Provider = None,
        tag: Annotated[str | None, Field(description="Only models with this tag.")] = None,
        include_removed: Annotated[
            bool, Field(description="Also the models no longer in the catalog.")
        ] = False,
        limit: Limit = 100,
    ) -> dict[str, Any]:
        """The catalog now: each model's name, label, type, provider, base_cost
        (credits per generation at its default parameters), has_audio, tags,
        first_seen_at (and removed_at). The rows of `catalog-sync models`."""
        return self._ask(
            lambda c: answers.list_models(
                c,
                type=type,
                provider=provider,
                tag=tag,
                include_removed=include_removed,
                limit=limit,
            )
        )

    def model_history(self, *, model: Model, limit: Limit = 200) -> dict[str, Any]:
        """One model's base-cost periods (half-open [valid_from, valid_to), UTC)
        and every other change logged for it, the newest `limit` of each. As
        `catalog-sync history MODEL`."""
        return self._ask(lambda c: answers.model_history(c, model, limit=limit))

    def changes(
        self,
        *,
        since: Since = None,
        until: Until = None,
        kind: Annotated[
            str, Field(description="price, added, removed, restored, updated or all.")
        ] = "all",
        limit: Limit = 100,
    ) -> dict[str, Any]:
        """What changed in the catalog in [since, until), oldest first (the
        newest `limit` when there are more): each change's time, run, model,
        kind, field, old and new values. The rows of `catalog-sync changes`."""
        return self._ask(
            lambda c: answers.changes(
                c, since=since, until=until, kind=kind, limit=limit, now=utcnow()
            )
        )

    def movers(
        self, *, since: Since = None, until: Until = None, limit: Limit = 20
    ) -> dict[str, Any]:
        """The prices that moved most in [since, until) (since: 30 days ago by
        default; until: now): each base cost and price point that
        changed, its price before the first change and after the last, the
        change in credits and percent, largest |%| first. As `changes --movers`."""
        return self._ask(
            lambda c: answers.movers(c, since=since, until=until, limit=limit, now=utcnow())
        )

    def prices_at(
        self,
        *,
        at: Annotated[str, Field(description="The moment. " + WHEN)],
        compare: Annotated[
            str | None, Field(description="Only what differs between at and this moment.")
        ] = None,
        limit: Limit = 100,
    ) -> dict[str, Any]:
        """Every model's base cost at a moment (the period covering it), or how
        they differ between two moments. The rows of `catalog-sync prices`."""
        return self._ask(
            lambda c: answers.prices_at(c, at=at, compare=compare, limit=limit, now=utcnow())
        )

    def cost(
        self,
        *,
        model: Model,
        params: Params = None,
        at: Moment = None,
        count: Count = 1,
        currency: Currency = None,
    ) -> dict[str, Any]:
        """What one generation (or `count`) of a model cost at a moment, in
        credits (and money), and how sure that is: basis (exact, boundary,
        unquoted_point, before_first_seen, removed), source, the period and when
        the price was last confirmed. An unpriced answer has its basis and null
        costs: unknown, not zero. The record of `catalog-sync cost MODEL`."""
        return self._ask(
            lambda c: answers.cost(
                c,
                model=model,
                params=params,
                at=at,
                count=count,
                currency=currency,
                default_currency=self.currency,
                now=utcnow(),
            )
        )

    def cheapest(
        self,
        *,
        params: Params = None,
        type: Type = None,
        provider: Provider = None,
        at: Moment = None,
        count: Count = 1,
        currency: Currency = None,
        limit: Limit = 20,
    ) -> dict[str, Any]:
        """Every model whose parameter grid held these values at the moment,
        priced, cheapest first; those that cannot be priced come after, with
        their basis (unknown, not free). The rows of `catalog-sync cost -p`."""
        return self._ask(
            lambda c: answers.cheapest_models(
                c,
                params=params,
                type=type,
                provider=provider,
                at=at,
                count=count,
                currency=currency,
                default_currency=self.currency,
                limit=limit,
                now=utcnow(),
            )
        )

    def reprice_usage(
        self,
        *,
        records: Records,
        at: Annotated[
            str | None, Field(description="Reprice all at this moment, not each record's own.")
        ] = None,
        compare: Annotated[
            str | None, Field(description="The mix at each record's time and at this moment.")
        ] = None,
        rows: Annotated[bool, Field(description="One row per record, not the summary.")] = False,
        currency: Currency = None,
        limit: Limit = 100,
    ) -> dict[str, Any]:
        """Usage records repriced at the prices of each record's time, per model
        (rows) and overall (`overall`, model "(all)", always there): credits over
        the priced records only, the unpriced counted by basis, what was charged
        and the residual. As `catalog-sync cost --usage` (a record's line is its
        position, from 1)."""
        return self._ask(
            lambda c: answers.reprice_usage(
                c,
                records,
                at=at,
                compare=compare,
                rows=rows,
                currency=currency,
                default_currency=self.currency,
                limit=limit,
                now=utcnow(),
            )
        )


def serve_stdio(database_url: str, *, default_currency: str = "") -> None:
    """Serve the tools over stdin/stdout until the client closes stdin; the
    database opened read-only, and checked to hold a catalog first."""
    from catalog_sync.errors import StoreError
    from catalog_sync.storage.engine import make_readonly_engine
    from catalog_sync.storage.migrate import current_revision

    engine = make_readonly_engine(database_url)
    try:
        if current_revision(engine) is None:
            raise StoreError("the database has no catalog yet; run `catalog-sync sync` first")
        build_server(engine, default_currency=default_currency).run("stdio")
    finally:
        engine.dispose()
