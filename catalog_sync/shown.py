"""Text from the API, made safe to show on a terminal: the one owner of that rule.

Every string of a catalog comes from a server the operator does not control.
On a terminal (tables, the dry run, the summary line, the `error:` line, text
logs, progress) it is shown as the text it is:

- never read as markup: rich gets `Text` objects (`as_text`) or `markup=False`,
  so `Veo 3 [beta]` and `markup[/]model` show their brackets;
- no control character reaches the terminal raw: C0 and C1 controls (tab and
  newline aside), DEL, the bidi controls and lone surrogates are written as
  visible escapes (`\\x1b`, `\\x9b`, `\\u202e`, `\\ud800`), so a catalog can
  neither clear the screen, set the clipboard (OSC 52), forge a link (OSC 8),
  nor reverse the reading order of a price;
- a backslash is written as two (`\\\\`), so that no text can forge those
  escapes: a name spelled with the four characters `\\x1b` shows as `\\\\x1b`,
  one holding ESC itself as `\\x1b`.

Machine formats (CSV and JSON on stdout, JSON logs, the webhook body) never
come here: they carry the text exactly. Pure: no I/O; rich is imported only by
`as_text`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# The backslash (which starts every escape), C0 but tab and newline, DEL and C1,
# the bidi embedding/override/isolate controls and marks, and the surrogates
# (only a lone one can be in a str).
_UNSAFE = re.compile(
    "[\\\\\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    if match.group() == "\\":
        return "\\\\"
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character a terminal would act on made visible,
    and every backslash doubled (so that an escape it shows cannot be forged)."""
    return _UNSAFE.sub(_escape, text)


def as_text(text: str) -> Text:
    """A rich `Text` of `text`: never parsed as markup, controls made visible."""
    from rich.text import Text

    return Text(visible(text))


# What `visible` leaves that one line should not hold (tab, newline), and the two
# noncharacters XML 1.0 cannot hold at all.
_MORE = re.compile("[\t\n\ufffe\uffff]")


def one_line(text: str) -> str:
    """`visible(text)` on one line that XML 1.0 can hold: tab, newline and the
    noncharacters U+FFFE/U+FFFF also as visible escapes (a feed title, a label)."""
    return _MORE.sub(_escape, visible(text))
