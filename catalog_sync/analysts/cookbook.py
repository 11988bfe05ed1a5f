"""The analysts' cookbook (docs/queries.md, shipped in the package as
analysts/cookbook.md) read as data: each recipe's title, SQL and parameters.

A recipe's parameters are named in its SQL's first line,
`-- parameters: model = 'veo-3.1', day = '2026-11-10'`: each names a literal
of the SQL that a person would change. As Datasette canned queries those
literals become `:model`, `:day`; the cookbook's own SQL keeps them, so that it
runs as pasted (and tests/analysts/test_cookbook.py checks its results)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_SECTION = re.compile(r"^### (?P<title>.+?)\n\n```sql\n(?P<sql>.+?)```\n", re.S | re.M)
_PARAMETERS = re.compile(r"\A-- parameters: (?P<list>[^\n]*)\n")
_PARAMETER = re.compile(r"(?P<name>[a-z_][a-z0-9_]*) = (?P<literal>'(?:[^']|'')*')")
_NUMBER = re.compile(r"^\d+\.\s*")


@dataclass(frozen=True)
class Recipe:
    number: int
    title: str  # without its number
    sql: str  # as in the cookbook: literals, runs as pasted
    parameters: dict[str, str]  # name -> the literal it replaces, quotes included

    @property
    def slug(self) -> str:
        """A stable name for the canned query: the title's words, lower case."""
        words = re.findall(r"[a-z0-9]+", self.title.lower().replace("'", ""))
        return "_".join(words)

    @property
    def parameterised_sql(self) -> str:
        """The SQL with each parameter's literal replaced by `:name` (its comment line dropped)."""
        sql = _PARAMETERS.sub("", self.sql)
        for name, literal in self.parameters.items():
            sql = sql.replace(literal, f":{name}")
        return sql.strip().rstrip(";")

    @property
    def defaults(self) -> dict[str, str]:
        """Each parameter's value in the cookbook (the literal, unquoted)."""
        return {n: literal[1:-1].replace("''", "'") for n, literal in self.parameters.items()}


def cookbook_text() -> str:
    return resources.files("catalog_sync.analysts").joinpath("cookbook.md").read_text("utf-8")


def recipes(text: str | None = None) -> list[Recipe]:
    found: list[Recipe] = []
    for match in _SECTION.finditer(cookbook_text() if text is None else text):
        number_text = _NUMBER.match(match["title"])
        title = _NUMBER.sub("", match["title"]).strip()
        number = int(number_text.group(0).rstrip(". ")) if number_text else len(found) + 1
        sql = match["sql"]
        declared = _PARAMETERS.match(sql)
        parameters = {}
        if declared:
            parameters = {m["name"]: m["literal"] for m in _PARAMETER.finditer(declared["list"])}
        found.append(Recipe(number, title, sql, parameters))
    return found
