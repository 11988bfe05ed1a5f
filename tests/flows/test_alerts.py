"""Alert rules end to end: the real CLI against the fake API, real databases
(both backends) and real receivers on loopback (a webhook, and apprise's
json:// service), as a user sets them up from the README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.catalogs import catalog, model
from support.harness import Harness
from support.receivers import TOKEN, ChatReceiver, Receiver

from catalog_sync.core.digest import WORD_JOINER

# apprise 2.x loads its email plugin, which imports PGPy's imghdr (Python 3.11).
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

HOSTILE = "<!channel> @here **x** [a](http://evil)\u202e"


@pytest.fixture
def alerting(harness: Harness, receiver: Receiver, chat: ChatReceiver) -> Harness:
    """The harness with both channels set up in [notify] (URLs from the env)."""
    harness.settings["notify"] = {
        "webhook_url_env": "TEST_WEBHOOK_URL",
        "apprise_urls_env": "TEST_CHAT_URLS",
    }
    original = harness.env

    def env(**extra: str) -> dict[str, str]:
        return original(TEST_WEBHOOK_URL=receiver.url, TEST_CHAT_URLS=chat.url(), **extra)

    harness.env = env  # type: ignore[method-assign]
    return harness


def rules(*tables: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"channels": ["webhook"], **table} for table in tables]


def fired(harness: Harness) -> list[tuple[Any, ...]]:
    rows = harness.rows(
        "SELECT alert, sync_run_id, model, delivered, error FROM alerts_fired ORDER BY id"
    )
    return [(a, run, m, bool(delivered), error) for a, run, m, delivered, error in rows]


def alerts_for(receiver: Receiver) -> list[dict[str, Any]]:
    """The alert messages the webhook received (the digests have no `alert`)."""
    return [m for m in receiver.received if "alert" in m]


DAY1 = catalog(
    model("kling-2", 100, provider="kling"),
    model("veo-3", 50, provider="google"),
    model("flux", 10, type="image", provider="bfl"),
    model("old", 4),
)
DAY2 = catalog(
    model("kling-2", 110, provider="kling"),  # +10 %
    model("veo-3", 45, provider="google"),  # -10 %
    model("flux", 10, type="image", provider="bfl"),
    model("new", 7),  # added; old removed
)
DAY3 = catalog(*DAY2["models"], model("old", 4))  # old restored at its last price


def test_each_when_fires_once_per_change_and_one_message_per_rule(
    alerting: Harness, receiver: Receiver
) -> None:
    alerting.settings["alerts"] = rules(
        {"name": "up", "when": "price_up"},
        {"name": "down", "when": "price_down"},
        {"name": "any move", "when": "price_change"},
        {"name": "added", "when": "added"},
        {"name": "removed", "when": "removed"},
        {"name": "restored", "when": "restored"},
    )
    alerting.serve(DAY1)
    alerting.sync()
    assert fired(alerting) == []  # a first load is not news
    assert alerts_for(receiver) == []
    alerting.serve(DAY2)
    alerting.sync()
    alerting.serve(DAY3)
    alerting.sync()
    assert fired(alerting) == [
        ("up", 2, "kling-2", True, None),
        ("down", 2, "veo-3", True, None),
        ("any move", 2, "kling-2", True, None),
        ("any move", 2, "veo-3", True, None),
        ("added", 2, "new", True, None),
        ("removed", 2, "old", True, None),
        ("restored", 3, "old", True, None),
    ]
    messages = alerts_for(receiver)
    assert [(m["alert"], m["runs"], len(m["changes"])) for m in messages] == [
        ("up", [2], 1),
        ("down", [2], 1),
        ("any move", [2], 2),
        ("added", [2], 1),
        ("removed", [2], 1),
        ("restored", [3], 1),
    ]
    up = messages[0]["changes"][0]
    assert (up["model"], up["old_cost"], up["new_cost"], up["pct_change"]) == (
        "kling-2",
        100.0,
        110.0,
        10.0,
    )
    assert "kling-2: 100 -> 110 credits (+10%)" in messages[0]["text"]
    alerting.sync()  # the same catalog again: nothing new
    assert len(fired(alerting)) == 7
    assert len(alerts_for(receiver)) == 6


def test_filters_and_thresholds_at_their_edges(alerting: Harness, receiver: Receiver) -> None:
    alerting.settings["alerts"] = rules(
        {"name": "10 pct", "when": "price_change", "min_pct": 10},
        {"name": "over 10 pct", "when": "price_change", "min_pct": 10.01},
        {"name": "10 credits", "when": "price_up", "min_delta": 10},
        {"name": "kling only", "when": "price_change", "provider": "kling"},
        {"name": "veo glob", "when": "price_change", "models": ["veo-*"]},
        {"name": "images", "when": "price_change", "type": "image"},
    )
    alerting.serve(DAY1)
    alerting.sync()
    alerting.serve(DAY2)
    alerting.sync()
    assert [(a, m) for a, _, m, _, _ in fired(alerting)] == [
        ("10 pct", "kling-2"),
        ("10 pct", "veo-3"),
        ("10 credits", "kling-2"),
        ("kling only", "kling-2"),
        ("veo glob", "veo-3"),
    ]


def test_points_fire_their_rules(alerting: Harness, receiver: Receiver) -> None:
    alerting.settings["details"] = {"enabled": True, "refresh_hours": 0}  # quoted every run
    alerting.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    alerting.settings["alerts"] = rules(
        {"name": "point up", "when": "point_up", "min_pct": 100},
        {"name": "point down", "when": "point_down"},
    )
    alerting.serve(catalog(model("kling-2", 4)))
    alerting.sync()
    alerting.api.pricing.reprice("kling-2", 2.0, duration=10)
    alerting.sync()
    rows = alerting.rows("SELECT alert, model, detail FROM alerts_fired")
    assert [(a, m) for a, m, _ in rows] == [("point up", "kling-2")]
    detail = rows[0][2] if isinstance(rows[0][2], dict) else json.loads(rows[0][2])
    assert detail["kind"] == "price_point"
    assert json.loads(detail["params"])["duration"] == 10
    assert detail["new_cost"] == 2 * detail["old_cost"]
    alerting.api.pricing.reprice("kling-2", 0.5, duration=10)  # factors multiply: back
    alerting.sync()
    assert [a for a, _, _ in alerting.rows("SELECT alert, model, detail FROM alerts_fired")] == [
        "point up",
        "point down",
    ]


def test_a_failing_channel_leaves_the_run_a_success_and_says_why(
    alerting: Harness, receiver: Receiver, chat: ChatReceiver
) -> None:
    alerting.settings["alerts"] = [
        {"name": "both", "when": "price_up", "channels": ["webhook", "apprise"]},
        {"name": "chat", "when": "price_up", "channels": ["apprise"]},
    ]
    alerting.serve(DAY1)
    alerting.sync()
    receiver.status = 500
    alerting.serve(DAY2)
    alerting.sync()  # exit 0
    rows = fired(alerting)
    assert [(a, d) for a, _, _, d, _ in rows] == [("both", False), ("chat", True)]
    assert rows[0][4] == "webhook: webhook answered HTTP 500"
    assert TOKEN not in str(rows)
    title = chat.messages()[-1]["title"]
    assert title == "catalog-sync alert chat: 1 change"
    status = alerting.cli("status")
    assert status.exit_code == 0, status.output  # told, not unhealthy
    assert "alert failing: 'both'" in status.output
    assert "webhook answered HTTP 500" in status.output
    listed = json.loads(alerting.cli("alerts", "list", "--format", "json").output)
    assert [(r["alert"], r["fired"], r["last_delivery"]) for r in listed] == [
        ("both", 1, "failed: webhook: webhook answered HTTP 500"),
        ("chat", 1, "delivered"),
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "x", "when": "price_jump"}, "alert 'x': when must be one of price_up"),
        ({"name": "x", "when": "price_up", "colour": "red"}, "alert 'x': unknown key 'colour'"),
        ({"name": "x", "when": "price_up", "channels": ["pager"]}, "unknown channel 'pager'"),
        ({"name": "x", "when": "added", "min_pct": 5}, "alert 'x': min_pct applies only to"),
        ({"name": "x", "when": "price_up", "min_pct": -1}, "alert 'x': min_pct must be a number"),
        ({"name": "x", "when": "price_up", "models": "kling-*"}, "models must be a list"),
        ({"when": "price_up"}, "alerts #1 needs a name"),
    ],
)
def test_a_bad_rule_is_a_configuration_error_before_any_request(
    harness: Harness, rule: dict[str, Any], message: str
) -> None:
    harness.settings["alerts"] = [rule]
    result = harness.cli("sync")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert harness.api.request_count == 0


def test_duplicate_names_and_unconfigured_channels_are_errors(harness: Harness) -> None:
    harness.settings["alerts"] = [
        {"name": "x", "when": "price_up"},
        {"name": "x", "when": "added"},
    ]
    result = harness.cli("sync")
    assert result.exit_code == 2
    assert "alerts #2: the name 'x' is used twice" in result.stderr
    harness.settings["alerts"] = [{"name": "x", "when": "added", "channels": ["webhook"]}]
    result = harness.cli("alerts", "list")
    assert result.exit_code == 2
    assert "alert 'x': channel 'webhook' is not configured" in result.stderr
    assert harness.api.request_count == 0


def snapshot(folder: Path, when: str, document: dict[str, Any]) -> Path:
    path = folder / f"catalog-{when}.json"
    path.write_text(json.dumps(document))
    return path


def test_import_fires_once_and_rebuild_or_reimport_fire_nothing(
    alerting: Harness, receiver: Receiver, tmp_path: Path
) -> None:
    alerting.settings["alerts"] = rules({"name": "moves", "when": "price_change"})
    files = [
        snapshot(tmp_path, "2026-11-01T06-00-00Z", DAY1),
        snapshot(tmp_path, "2026-11-02T06-00-00Z", DAY2),
    ]
    files.append(snapshot(tmp_path, "2026-11-03T06-00-00Z", DAY1))  # and back again
    assert alerting.cli("import", *map(str, files)).exit_code == 0
    # One message per rule per run: runs 2 and 3 each moved two prices.
    assert [(m["alert"], m["runs"]) for m in alerts_for(receiver)] == [
        ("moves", [2]),
        ("moves", [3]),
    ]
    first = fired(alerting)
    assert [(run, m) for _, run, m, _, _ in first] == [
        (2, "kling-2"),
        (2, "veo-3"),
        (3, "kling-2"),
        (3, "veo-3"),
    ]
    assert alerting.cli("import", *map(str, files)).exit_code == 0  # skipped: done already
    assert alerting.cli("rebuild").exit_code == 0
    alerting.serve(DAY1)
    alerting.sync()  # the same catalog as the newest snapshot: no change
    assert fired(alerting) == first
    assert len(alerts_for(receiver)) == 2


def test_an_import_that_fails_later_still_fires_for_the_runs_it_committed(
    alerting: Harness, receiver: Receiver, tmp_path: Path
) -> None:
    alerting.settings["alerts"] = rules({"name": "moves", "when": "price_change"})
    files = [
        snapshot(tmp_path, "2026-11-01T06-00-00Z", DAY1),
        snapshot(tmp_path, "2026-11-02T06-00-00Z", DAY2),
        snapshot(tmp_path, "2026-11-03T06-00-00Z", catalog(model("kling-2", 1))),  # refused
    ]
    assert alerting.cli("import", *map(str, files)).exit_code == 3
    assert [m for _, run, m, _, _ in fired(alerting) if run == 2] == ["kling-2", "veo-3"]
    assert [m["runs"] for m in alerts_for(receiver)] == [[2]]


def test_the_first_changes_of_a_database_are_its_first_load_even_after_an_empty_run(
    alerting: Harness, receiver: Receiver
) -> None:
    alerting.settings["alerts"] = rules({"name": "new", "when": "added"})
    alerting.serve(catalog())
    alerting.sync()  # an empty catalog: nothing recorded
    alerting.serve(DAY1)
    alerting.sync()  # the first load, all added: not news
    alerting.serve(catalog(*DAY1["models"], model("new", 7)))
    alerting.sync()
    assert [(a, m) for a, _, m, _, _ in fired(alerting)] == [("new", "new")]


def test_alerts_test_shows_what_would_fire_and_sends_nothing(
    alerting: Harness, receiver: Receiver
) -> None:
    alerting.serve(DAY1)
    alerting.sync()
    alerting.serve(DAY2)
    alerting.sync()
    # A rule added after the change: it never fires for it, but the test shows it.
    alerting.settings["alerts"] = rules(
        {"name": "dearer", "when": "price_up"}, {"name": "gone", "when": "removed"}
    )
    alerting.serve(DAY3)
    alerting.sync()
    assert fired(alerting) == []
    result = alerting.cli("alerts", "test", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["alert"], r["model"], r["sync_run_id"], r["fired"]) for r in rows] == [
        ("dearer", "kling-2", 2, False),
        ("gone", "old", 2, False),
    ]
    assert rows[0]["old_cost"] == 100 and rows[0]["new_cost"] == 110
    assert rows[0]["pct_change"] == 10.0
    later = alerting.cli("alerts", "test", "--since", "2100-01-01", "--format", "json")
    assert json.loads(later.output) == []
    only = alerting.cli("alerts", "test", "--alert", "gone", "--format", "csv").output
    assert only.splitlines()[1].startswith("gone,removed,")
    unknown = alerting.cli("alerts", "test", "--alert", "nope")
    assert unknown.exit_code == 2 and "no alert named 'nope'" in unknown.stderr
    assert fired(alerting) == [] and alerts_for(receiver) == []


def test_no_rules_is_a_usage_error_for_the_alerts_commands(harness: Harness) -> None:
    harness.sync()
    for command in (["alerts", "test"], ["alerts", "list"]):
        result = harness.cli(*command)
        assert result.exit_code == 2
        assert "no [[alerts]] rules" in result.stderr


def test_hostile_names_are_data_in_every_message_and_table(
    alerting: Harness, receiver: Receiver, chat: ChatReceiver
) -> None:
    alerting.settings["alerts"] = [
        {"name": "all", "when": "price_change", "channels": ["webhook", "apprise"], "feed": True}
    ]
    feed = alerting.tmp_path / "feed.xml"
    alerting.settings["feed"] = {"path": str(feed)}
    alerting.serve(catalog(model(HOSTILE, 1)))
    alerting.sync()
    alerting.serve(catalog(model(HOSTILE, 2)))
    alerting.sync()
    (message,) = alerts_for(receiver)
    assert message["changes"][0]["model"] == HOSTILE  # JSON: the name as stored
    body = chat.messages()[-1]["message"]
    assert "<!channel>" not in body and "@here" not in body
    assert f"@{WORD_JOINER}here" in body and "\u202e" not in body
    table = alerting.cli("alerts", "test").output
    assert "\u202e" not in table and "\\u202e" in table
    import feedparser

    parsed = feedparser.parse(feed.read_bytes())
    titles = [e.title for e in parsed.entries]
    assert titles[0].startswith("alert 'all': <!channel> @here")
    assert "\u202e" not in titles[0]
    assert parsed.entries[0].id.split("/")[-2] == "alerts_fired"
    assert len([t for t in titles if t.startswith("alert")]) == 1


def test_a_failed_or_refused_run_fires_nothing(alerting: Harness, receiver: Receiver) -> None:
    alerting.settings["alerts"] = rules(
        {"name": "gone", "when": "removed"}, {"name": "moves", "when": "price_change"}
    )
    feed = alerting.tmp_path / "feed.xml"
    alerting.settings["feed"] = {"path": str(feed)}  # no rule asks for the feed
    alerting.serve(DAY1)
    alerting.sync()
    alerting.serve(catalog(model("kling-2", 200, provider="kling")))  # 3 of 4 removed
    alerting.sync(expect=3)
    alerting.api.fail_next(500, times=3)  # every attempt of the run (max_retries = 2)
    alerting.sync(expect=1)
    assert fired(alerting) == [] and alerts_for(receiver) == []
    alerting.serve(DAY2)
    alerting.sync()
    assert [m for _, _, m, _, _ in fired(alerting)] == ["old", "kling-2", "veo-3"]
    import feedparser

    terms = {e.tags[0].term for e in feedparser.parse(feed.read_bytes()).entries}
    assert "alert" not in terms and "price" in terms
