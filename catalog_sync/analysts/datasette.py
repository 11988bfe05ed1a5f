"""The files Datasette reads to show this database well: `metadata.yaml`
(Datasette 0.65: the descriptions of the database, every table, view and
column, the table options and the cookbook's recipes as canned queries) and
`datasette.yaml` (Datasette 1.0, which splits configuration from metadata: the
same table options and canned queries, which 1.0 takes from there; its
metadata.yaml is meant for descriptions only, and the copies in ours say the
same).

Made from the one source of descriptions (storage.descriptions) and the
cookbook (analysts.cookbook); pure apart from writing the two files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog_sync.analysts.cookbook import Recipe, recipes
from catalog_sync.files import write_atomically
from catalog_sync.storage.descriptions import INTERNAL_TABLES, relations
from catalog_sync.storage.schema import tables_in_reading_order
from catalog_sync.storage.views import VIEWS

TITLE = "Hoox model catalog and its price history"
DESCRIPTION = (
    "Every model of the Hoox asset-model catalog, its capabilities and tags, and every "
    "change since the first sync: base-cost periods (cost_history), the change log "
    "(catalog_changes) and, with pricing on, the price of each cost-relevant point "
    "(price_points). Costs are in Hoox credits; every time is UTC. Kept by catalog-sync."
)
SOURCE = "Hoox public API, GET /api/public/v1/asset/models, synced by catalog-sync"

HIDDEN = INTERNAL_TABLES  # and every table whose Table.info says hidden


def table_options() -> dict[str, dict[str, Any]]:
    """How each table and view is best first shown (sort, facets, label, hidden):
    the tables' `Table.info["datasette"]`, the views' own declarations."""
    options = {str(t.name): dict(t.info["datasette"]) for t in tables_in_reading_order()}
    options.update({view.name: dict(view.datasette) for view in VIEWS})
    return {name: entry for name, entry in options.items() if entry}


def metadata_065(database: str) -> dict[str, Any]:
    """metadata.yaml in the form Datasette 0.65 reads: descriptions, options, queries."""
    tables: dict[str, Any] = {}
    options = table_options()
    for relation in relations():
        entry: dict[str, Any] = {
            "description": relation.description,
            "columns": {c.name: c.description for c in relation.columns},
        }
        entry.update(options.get(relation.name, {}))
        tables[relation.name] = entry
    for name in HIDDEN:
        tables.setdefault(name, {}).update({"hidden": True})
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "source": SOURCE,
        "databases": {
            database: {
                "description": DESCRIPTION,
                "tables": tables,
                "queries": canned_queries(),
            }
        },
    }


def datasette_10(database: str) -> dict[str, Any]:
    """datasette.yaml in Datasette 1.0's split form: table options and canned queries."""
    tables: dict[str, Any] = table_options()
    for name in HIDDEN:
        tables.setdefault(name, {}).update({"hidden": True})
    return {"databases": {database: {"tables": tables, "queries": canned_queries()}}}


def canned_queries() -> dict[str, Any]:
    """Every cookbook recipe as a canned query: its literals as `:parameters`."""
    return {recipe.slug: _canned(recipe) for recipe in recipes()}


def _canned(recipe: Recipe) -> dict[str, Any]:
    description = f"Recipe {recipe.number} of the analysts' cookbook (docs/queries.md)."
    if recipe.parameters:
        examples = ", ".join(f"{name} = {value}" for name, value in recipe.defaults.items())
        description += (
            f" Parameters, e.g. {examples}. Times are UTC, written 2026-11-10 (its "
            "midnight) or 2026-11-10 06:00:00 (a space, not a T)."
        )
    query: dict[str, Any] = {
        "title": recipe.title,
        "description": description,
        "sql": recipe.parameterised_sql,
    }
    if recipe.parameters:
        query["params"] = list(recipe.parameters)
    return query


def write_files(out: Path, database: str) -> list[Path]:
    """Write metadata.yaml and datasette.yaml into `out` (made if missing), each
    replaced atomically; return their paths."""
    import yaml

    _Dumper = _yaml_dumper()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in (
        ("metadata.yaml", metadata_065(database)),
        ("datasette.yaml", datasette_10(database)),
    ):
        text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        header = f"# {name}: written by `catalog-sync datasette`; regenerate rather than edit.\n"
        write_atomically(out / name, header + text)
        written.append(out / name)
    return written


def _yaml_dumper() -> type[Any]:
    import yaml

    class Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types
        """SQL as a block (`|`), as a person would write it."""

    def text(dumper: yaml.SafeDumper, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def database_name(url: str) -> str:
    """The name Datasette gives a SQLite file (its stem); `catalog` otherwise."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).stem
    return "catalog"
