"""Hostile text for every surface: names that are markup, terminal controls and
bidi overrides, and the checks that a terminal never gets them raw."""

from __future__ import annotations

import re

from click.testing import Result

from support.catalogs import catalog, model
from support.harness import Harness

# What must never reach a terminal raw: C0 but tab and newline, DEL, C1, the
# bidi controls, lone surrogates.
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

MARKUP_NAME = "markup[/]model"
ANSI_NAME = "ansi\x1b[2Jname"
BIDI_NAME = "bidi\u202emodel"


def hostile_catalog(cost: float = 1.0) -> dict[str, object]:
    return catalog(
        model(
            MARKUP_NAME,
            cost,
            label="Veo 3 [beta] [bold red]loud[/bold red] [/]",
            provider="acme [beta]",
            tags=["[/]", "t\x1b[31mred"],
            capabilities={"k\u202ey": "v\x9b31m", "default_duration": 5},
        ),
        model(
            ANSI_NAME,
            cost + 1,
            label="clip\x1b]52;c;aGVsbG8=\x07board",
            provider="osc\x1b]8;;http://127.0.0.1/x\x1b\\link\x1b]8;;\x1b\\",
            type="video\x07\x08",
        ),
        model(BIDI_NAME, 3, label="price \u202e 04 \u2066iso\u2069", provider="c1\x9b2J"),
        model("nul", 4, label="a\x00b", provider="p\ud800q", tags=["x\x00"]),
    )


def assert_terminal_safe(result: Result) -> None:
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        found = RAW_CONTROL.search(text)
        assert found is None, (stream, repr(found.group()), text)


def run(h: Harness, *args: str, expect: int = 0) -> Result:
    result = h.cli(*args)
    assert result.exit_code == expect, (result.exit_code, result.stdout, result.stderr)
    assert_terminal_safe(result)
    return result


def machine(h: Harness, *args: str) -> str:
    """A machine format's stdout: the text exactly as stored, controls and all."""
    result = h.cli(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout
