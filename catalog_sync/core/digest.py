"""The change digest of a run: what a webhook (JSON, `build_digest`) and the chat
channels (Markdown, `digest_markdown`) are told after a run that added,
removed, restored or re-priced models. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from catalog_sync.core.diff import ChangeSet
from catalog_sync.shown import visible
from catalog_sync.wording import credits, percent, percent_change

MAX_TEXT_LINES = 40


def build_digest(
    changes: ChangeSet,
    *,
    run_id: int,
    observed_at: str,
    points: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The digest of a run, or None when nothing worth telling changed; `points`
    are its re-priced price points (name, params, old_cost, new_cost)."""
    repriced = [
        {**dict(p), "pct_change": percent_change(p["old_cost"], p["new_cost"])} for p in points
    ]
    prices = [
        {
            "name": c.name,
            "old_cost": c.old_value,
            "new_cost": c.new_value,
            "pct_change": percent_change(c.old_value, c.new_value),
        }
        for c in changes.changes
        if c.kind == "updated" and c.field == "base_cost"
    ]
    added = [{"name": item.name, "base_cost": item.base_cost} for item in changes.added]
    removed = [{"name": c.name} for c in changes.changes if c.kind == "removed"]
    restored = [{"name": c.name} for c in changes.changes if c.kind == "restored"]
    if not (prices or added or removed or restored or repriced):
        return None
    head = _headline(prices, repriced, added, removed, restored)
    lines = [f"Hoox catalog: {head} (run {run_id}, {observed_at})"]
    lines += [f"• {p['name']}: {_costs(p)}" for p in prices]
    lines += [f"• {p['name']} {p['params']}: {_costs(p)}" for p in repriced]
    lines += [f"• added {a['name']} at {credits(a['base_cost'])}" for a in added]
    lines += [f"• removed {r['name']}" for r in removed]
    lines += [f"• restored {r['name']}" for r in restored]
    if len(lines) > MAX_TEXT_LINES:
        lines = [*lines[: MAX_TEXT_LINES - 1], f"… and {len(lines) - MAX_TEXT_LINES + 1} more"]
    changed: dict[str, Any] = {
        "price_changes": prices,
        "added": added,
        "removed": removed,
        "restored": restored,
    }
    if repriced:  # only with pricing.enabled
        changed["price_point_changes"] = repriced
    return {
        "text": "\n".join(lines),
        "run_id": run_id,
        "observed_at": observed_at,
        "changes": changed,
    }


def _costs(price: dict[str, Any]) -> str:
    return f"{credits(price['old_cost'])} → {credits(price['new_cost'])}{_pct_text(price)}"


def _pct_text(price: dict[str, Any]) -> str:
    pct = price["pct_change"]
    return "" if pct is None else f" ({percent(pct)})"


def _headline(*kinds: Sequence[Any]) -> str:
    """`2 price changes, 1 added`: the counts of (prices, re-priced points, added,
    removed, restored), the empty ones left out."""
    names = ("price change", "price point change", "added", "removed", "restored")
    return ", ".join(
        f"{len(rows)} {_plural(len(rows), what)}"
        for rows, what in zip(kinds, names, strict=True)
        if rows
    )


def _plural(n: int, what: str) -> str:
    return what + "s" if n != 1 and what.endswith("change") else what


# --- the digest as Markdown, for chat channels (flows.notify.send_chat) -----------

MAX_NAME_CHARS = 120  # a longer name or params text is cut, with "…"

# The metacharacters that could format a name in the middle of a line (a
# name never starts one): emphasis and strike-through (CommonMark, Slack,
# Discord), code, links, Discord's ||spoilers||, raw HTML, autolinks and
# Slack's <!channel> / <@U123> / <#C123> tokens. Backslash escapes are
# CommonMark's own, and apprise turns them into each service's dialect
# (Slack: "\<" becomes "&lt;"). An HTML entity such as "&lt;" would not do:
# apprise escapes "&" for Slack, and Discord shows entities as typed.
_MARKDOWN_META = re.compile(r"([\\`*_\[\]~|<>])")
# An "&" that would start an entity reference (&lt; &#64; &#x40;).
_ENTITY_START = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_EDGE_SPACE = re.compile(r"^\s+|\s+$")
WORD_JOINER = "\u2060"


def chat_text(text: str) -> str:
    """Text from the API as a chat message shows it (before Markdown escaping):
    controls visible (newline as `\\n`), cut at MAX_NAME_CHARS, a word joiner
    after every `@` so that no `@here`, `@channel`, `@everyone`, `@user` or
    `<@U123>` mentions anyone, and one after the `:` of `://` so that no URL is
    turned into a link; whitespace at either end visible, so that it cannot
    undo the bold around a name."""
    if len(text) > MAX_NAME_CHARS:
        text = text[: MAX_NAME_CHARS - 1] + "…"
    text = visible(text).replace("\n", "\\n")
    text = _EDGE_SPACE.sub(lambda m: "".join(_code(c) for c in m.group()), text)
    return text.replace("@", "@" + WORD_JOINER).replace("://", ":" + WORD_JOINER + "//")


def markdown_escaped(text: str) -> str:
    """`text` as CommonMark inline content that renders as exactly `text`:
    every metacharacter backslash-escaped (so `<!channel>`, `<@U123>`,
    `<#C123>` and `<at>` are text, never a tag or a mention token), and an
    `&` that would start an entity reference written `&amp;`."""
    return _ENTITY_START.sub("&amp;", _MARKDOWN_META.sub(r"\\\1", text))


def _md(text: Any) -> str:
    return markdown_escaped(chat_text(str(text)))


def _code(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def digest_markdown(digest: Mapping[str, Any]) -> tuple[str, str]:
    """The (title, body) of a digest (build_digest's) as Markdown for a chat
    channel: one bullet per change, capped like the text. Every name and
    params text is escaped: it shows as itself and never mentions anyone."""
    changes = digest["changes"]
    prices = changes.get("price_changes", [])
    repriced = changes.get("price_point_changes", [])
    added = changes.get("added", [])
    removed = changes.get("removed", [])
    restored = changes.get("restored", [])
    head = _headline(prices, repriced, added, removed, restored)
    title = f"Hoox catalog: {head} (run {int(digest['run_id'])})"
    lines = [f"- **{_md(p['name'])}**: {_cost_move(p)}" for p in prices]
    lines += [f"- **{_md(p['name'])}** {_md(p['params'])}: {_cost_move(p)}" for p in repriced]
    lines += [f"- added **{_md(a['name'])}** at {_credits(a['base_cost'])}" for a in added]
    lines += [f"- removed **{_md(r['name'])}**" for r in removed]
    lines += [f"- restored **{_md(r['name'])}**" for r in restored]
    if len(lines) > MAX_TEXT_LINES - 1:  # the text digest's cap, its header line aside
        keep = MAX_TEXT_LINES - 2
        lines = [*lines[:keep], f"- … and {len(lines) - keep} more"]
    observed = markdown_escaped(visible(str(digest["observed_at"])))
    return title, "\n".join([*lines, "", f"Observed at {observed}."])


def _credits(cost: Any) -> str:
    return f"{credits(cost)} credits" if isinstance(cost, int | float) else f"{_md(cost)} credits"


def _cost_move(price: Mapping[str, Any]) -> str:
    old, new = price["old_cost"], price["new_cost"]
    move = f"{credits(old)} → {_credits(new)}" if isinstance(old, int | float) else _credits(new)
    pct = price.get("pct_change")
    return move if pct is None else f"{move} ({percent(pct)})"
