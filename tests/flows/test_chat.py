"""The change digest to chat channels: Markdown through apprise, delivered for
real to a receiver on loopback (apprise's json:// and form:// services), and
text from the API that never mentions anyone nor formats anything."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from support.catalogs import catalog, model
from support.harness import Harness
from support.receivers import TOKEN, ChatReceiver

from catalog_sync.channels import apprise_urls
from catalog_sync.config import Config, NotifyConfig
from catalog_sync.core.digest import (
    MAX_TEXT_LINES,
    WORD_JOINER,
    chat_text,
    digest_markdown,
    markdown_escaped,
)
from catalog_sync.errors import UsageError
from catalog_sync.flows.notify import NotifyError, send_chat

# apprise 2.x loads its email plugin, which imports PGPy's imghdr (Python 3.11).
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

WJ = WORD_JOINER
HOSTILE = "<!channel> @here <@U123> **bold** [x](http://evil)"
# What a chat shows of HOSTILE, escaped as CommonMark: no token, no markup.
HOSTILE_MD = rf"\<!channel\> @{WJ}here \<@{WJ}U123\> \*\*bold\*\* \[x\](http:{WJ}//evil)"


def chatting(harness: Harness, urls: str, **env: str) -> Harness:
    """The harness with [notify] apprise_urls_env = "CHAT_URLS" holding `urls`."""
    harness.settings.setdefault("notify", {})["apprise_urls_env"] = "CHAT_URLS"
    original = harness.env

    def with_urls(**extra: str) -> dict[str, str]:
        return original(CHAT_URLS=urls, **env, **extra)

    harness.env = with_urls  # type: ignore[method-assign]
    return harness


def digest(**changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "text": "(the text digest)",
        "run_id": 7,
        "observed_at": "2026-11-01T06:00:00+00:00",
        "changes": {"price_changes": [], "added": [], "removed": [], "restored": [], **changes},
    }


# --- the Markdown -------------------------------------------------------------------


def test_the_markdown_digest() -> None:
    title, body = digest_markdown(
        digest(
            price_changes=[
                {"name": "veo-3.1", "old_cost": 32, "new_cost": 40, "pct_change": 25.0},
                {"name": "kling_2", "old_cost": 2.5, "new_cost": 2, "pct_change": -20.0},
            ],
            price_point_changes=[
                {
                    "name": "veo-3.1",
                    "params": '{"duration":8}',
                    "old_cost": 2,
                    "new_cost": 3,
                    "pct_change": 50.0,
                }
            ],
            added=[{"name": "flux-2-pro", "base_cost": 0.5}],
            removed=[{"name": "old"}],
            restored=[{"name": "back"}],
        )
    )
    assert title == (
        "Hoox catalog: 2 price changes, 1 price point change, 1 added, 1 removed,"
        " 1 restored (run 7)"
    )
    assert body.splitlines() == [
        "- **veo-3.1**: 32 → 40 credits (+25%)",
        r"- **kling\_2**: 2.5 → 2 credits (-20%)",
        '- **veo-3.1** {"duration":8}: 2 → 3 credits (+50%)',
        "- added **flux-2-pro** at 0.5 credits",
        "- removed **old**",
        "- restored **back**",
        "",
        "Observed at 2026-11-01T06:00:00+00:00.",
    ]


def test_the_markdown_is_capped_like_the_text() -> None:
    _, body = digest_markdown(digest(added=[{"name": f"m{i}", "base_cost": 1} for i in range(60)]))
    bullets = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(bullets) == MAX_TEXT_LINES - 1
    assert bullets[-2] == f"- added **m{MAX_TEXT_LINES - 3}** at 1 credits"
    assert bullets[-1] == f"- … and {60 - (MAX_TEXT_LINES - 2)} more"


def test_hostile_names_show_as_themselves() -> None:
    _, body = digest_markdown(
        digest(
            removed=[
                {"name": HOSTILE},
                {"name": "<#C123> <@&123> <at>Bob</at> @everyone @channel"},
                {"name": "a`b`c ~~s~~ ||spoiler|| _i_ \\ &lt; x&y"},
                {"name": "\x1b[31mred\u202e\nnext"},
                {"name": " padded "},
                {"name": "x" * 500},
            ]
        )
    )
    assert body.splitlines()[:6] == [
        f"- removed **{HOSTILE_MD}**",
        rf"- removed **\<#C123\> \<@{WJ}&123\> \<at\>Bob\</at\> @{WJ}everyone @{WJ}channel**",
        # the backslash shown as two (catalog_sync.shown), each escaped for Markdown
        r"- removed **a\`b\`c \~\~s\~\~ \|\|spoiler\|\| \_i\_ \\\\ &amp;lt; x&y**",
        r"- removed **\\x1b\[31mred\\u202e\\nnext**",
        r"- removed **\\x20padded\\x20**",
        f"- removed **{'x' * 119}…**",
    ]


def test_control_characters_are_visible() -> None:
    assert chat_text("a\x00b\x9bc\u2066d\te\nf") == "a\\x00b\\x9bc\\u2066d\te\\nf"


def rendered(line: str) -> str:
    """A bullet as a CommonMark renderer shows it (HTML)."""
    return MarkdownIt("commonmark").render(line)


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=60)
    | st.text(alphabet="<>@!#&;*_[]()~`|\\/: \t\n\u00a0=-+.hereU1x", min_size=1, max_size=40)
)
def test_any_name_shows_as_itself_and_mentions_no_one(name: str) -> None:
    from apprise.conversion.format import markdown_to_html
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack

    shown = chat_text(name)
    line = f"- **{markdown_escaped(shown)}**: 1 → 2 credits"
    # CommonMark shows exactly the text: no element, link, entity or emphasis of its own.
    assert (
        rendered(line)
        == f"<ul>\n<li><strong>{escapeHtml(shown)}</strong>: 1 → 2 credits</li>\n</ul>\n"
    )
    # No mention survives: in the text, nor in what apprise makes of it for Slack
    # (mrkdwn: <!here>, <@U123>, <#C123>) and Discord (its @/<@id> ping detection).
    assert not re.search(r"@\w", shown)
    slack = NotifySlack._commonmark_to_slack(line)
    assert not re.search(r"<[!@#]", slack) and not re.search(r"@\w", slack)
    assert NotifyDiscord(webhook_id="1" * 17, webhook_token="a" * 60).ping_payload(line) == {}
    # apprise's HTML (email, ...) has no element of the name's own.
    tags = re.findall(r"</?([a-z0-9]+)", markdown_to_html(line))
    assert set(tags) <= {"ul", "li", "strong", "p"}


# --- delivery, for real, to a receiver on loopback --------------------------------------


def test_a_price_change_sends_one_markdown_message(harness: Harness, chat: ChatReceiver) -> None:
    chatting(harness, chat.url())
    harness.serve(catalog(model("veo-3.1", 32), model("b", 2)))
    harness.sync()
    harness.serve(catalog(model("veo-3.1", 40), model("b", 2)))
    harness.sync()
    assert [path for path, _, _ in chat.received] == [f"/chat/{TOKEN}"] * 2
    message = chat.messages()[1]
    assert message["title"] == "Hoox catalog: 1 price change (run 2)"
    assert message["message"].splitlines()[0] == "- **veo-3.1**: 32 → 40 credits (+25%)"
    assert harness.rows("SELECT notified_at IS NOT NULL, notify_error FROM sync_runs") == [
        (True, None),
        (True, None),
    ]
    harness.sync()  # unchanged: nothing to tell
    assert len(chat.received) == 2


def test_a_hostile_name_arrives_as_text(harness: Harness, chat: ChatReceiver) -> None:
    chatting(harness, chat.url("form"))
    harness.serve(catalog(model(HOSTILE, 3)))
    harness.sync()
    (message,) = chat.messages()
    assert message["title"] == "Hoox catalog: 1 added (run 1)"
    assert message["message"].splitlines()[0] == f"- added **{HOSTILE_MD}** at 3 credits"


def test_a_failing_channel_never_fails_the_sync(harness: Harness, chat: ChatReceiver) -> None:
    chatting(harness, chat.url())
    chat.status = 500
    result = harness.cli("-v", "sync")
    assert result.exit_code == 0, result.output
    assert "22 added" in result.stdout
    error = "chat notification failed for 1 of 1 apprise URLs (JSON failed)"
    assert f"change digest not delivered: {error}" in result.stderr
    assert harness.rows("SELECT status, notified_at, notify_error FROM sync_runs") == [
        ("success", None, error)
    ]
    stored = repr(harness.rows("SELECT * FROM sync_runs"))
    for text in (result.stdout, result.stderr, stored):
        assert TOKEN not in text and str(chat.server.port) not in text


def test_one_failing_channel_of_two(harness: Harness, chat: ChatReceiver) -> None:
    other = ChatReceiver()
    with other.server:
        other.status = 503
        chatting(harness, f"{chat.url()}, {other.url('form', 'other')}")
        harness.sync()
    assert len(chat.received) == 1 and len(other.received) == 1
    assert harness.rows("SELECT notify_error FROM sync_runs") == [
        ("chat notification failed for 1 of 2 apprise URLs (Form failed)",)
    ]


def test_webhook_and_chat_both_get_it(harness: Harness, chat: ChatReceiver) -> None:
    harness.settings["notify"] = {"webhook_url_env": "HOOK_URL"}
    chatting(harness, chat.url(), HOOK_URL=chat.url("http", "hook"))
    harness.serve(catalog(model("a", 1)))
    harness.sync()
    by_path = {path: body for path, _, body in chat.received}
    assert set(by_path) == {f"/chat/{TOKEN}", f"/hook/{TOKEN}"}
    assert json.loads(by_path[f"/hook/{TOKEN}"])["changes"]["added"] == [
        {"name": "a", "base_cost": 1.0}
    ]
    assert json.loads(by_path[f"/chat/{TOKEN}"])["message"].startswith("- added **a** at 1 credits")
    assert harness.rows("SELECT notify_error FROM sync_runs") == [(None,)]


def test_a_slow_channel_is_bounded_by_the_timeout(chat: ChatReceiver) -> None:
    chat.delay = 3
    started = time.monotonic()
    with pytest.raises(NotifyError, match=r"^chat notification failed for 1 of 1 apprise URLs"):
        send_chat(chat.url(), digest(removed=[{"name": "a"}]), timeout=0.3)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "urls",
    [
        "not a url",
        f"json://127.0.0.1:9/{TOKEN} slack://{TOKEN}",  # a Slack URL lacking its tokens
        f"nosuchservice://{TOKEN}",
    ],
)
def test_a_url_apprise_does_not_understand_is_exit_2(harness: Harness, urls: str) -> None:
    chatting(harness, urls)
    result = harness.sync(expect=2)
    assert result.stderr.startswith("error: CHAT_URLS (notify.apprise_urls_env) holds a URL")
    assert TOKEN not in result.output and "not a url" not in result.output
    assert harness.rows("SELECT count(*) FROM sync_runs") == [(0,)]


def test_the_named_env_var_unset_is_exit_2(harness: Harness) -> None:
    harness.settings["notify"] = {"apprise_urls_env": "CHAT_URLS_NOT_SET"}
    result = harness.sync(expect=2)
    assert "notify.apprise_urls_env names CHAT_URLS_NOT_SET, but CHAT_URLS_NOT_SET is not set" in (
        result.stderr
    )


def test_without_the_extra_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "apprise" else real(name, *a)
    )
    config = Config(notify=NotifyConfig(apprise_urls_env="CHAT_URLS"))
    with pytest.raises(UsageError) as caught:
        apprise_urls(config, {"CHAT_URLS": "json://127.0.0.1/x"})
    assert str(caught.value) == (
        "notify.apprise_urls_env needs the [notify] extra: pip install 'catalog-sync[notify]'"
    )
    assert apprise_urls(Config(), {}) is None


def test_ntfy_gets_the_digest_as_markdown_text(harness: Harness, chat: ChatReceiver) -> None:
    chatting(harness, f"ntfy://{chat.server.host}:{chat.server.port}/catalog-{TOKEN}")
    harness.serve(catalog(model("veo-3.1", 32), model(HOSTILE, 3)))
    harness.sync()
    harness.serve(catalog(model("veo-3.1", 40), model(HOSTILE, 3)))
    harness.sync()
    first, second = chat.messages()
    assert first["topic"] == f"catalog-{TOKEN}"
    assert f"- added **{HOSTILE_MD}** at 3 credits" in first["message"].splitlines()
    assert second["title"] == "Hoox catalog: 1 price change (run 2)"
    assert second["message"].splitlines()[0] == "- **veo-3.1**: 32 → 40 credits (+25%)"
