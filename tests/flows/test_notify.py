"""Webhook digests, delivered to a real receiver on loopback."""

from __future__ import annotations

import json

import pytest
from support.catalogs import catalog, model
from support.harness import Harness
from support.receivers import Receiver


@pytest.fixture
def notifying(harness: Harness, receiver: Receiver) -> Harness:
    harness.settings = {"notify": {"webhook_url_env": "TEST_WEBHOOK_URL"}}
    original = harness.env

    def env(**extra: str) -> dict[str, str]:
        return original(TEST_WEBHOOK_URL=receiver.url, **extra)

    harness.env = env  # type: ignore[method-assign]
    return harness


def test_digest_after_price_changes_and_additions(notifying: Harness, receiver: Receiver) -> None:
    notifying.serve(catalog(model("a", 1), model("b", 2), model("c", 3)))
    notifying.sync()
    notifying.serve(catalog(model("a", 1.5), model("b", 2), model("d", 4, label="Dee")))
    notifying.sync()
    first, second = receiver.received
    assert len(first["changes"]["added"]) == 3
    assert second["run_id"] == 2
    assert second["changes"] == {
        "price_changes": [{"name": "a", "old_cost": 1.0, "new_cost": 1.5, "pct_change": 50.0}],
        "added": [{"name": "d", "base_cost": 4.0}],
        "removed": [{"name": "c"}],
        "restored": [],
    }
    text = second["text"]
    assert text.startswith("Hoox catalog: 1 price change, 1 added, 1 removed (run 2,")
    assert "• a: 1 → 1.5 (+50%)" in text
    assert "• added d at 4" in text
    assert "• removed c" in text
    assert notifying.rows("SELECT notified_at IS NOT NULL, notify_error FROM sync_runs") == [
        (True, None),
        (True, None),
    ]


def test_no_call_on_a_run_without_changes(notifying: Harness, receiver: Receiver) -> None:
    notifying.sync()
    notifying.sync()
    assert len(receiver.received) == 1


def test_no_call_for_changes_other_than_price_or_presence(
    notifying: Harness, receiver: Receiver
) -> None:
    notifying.serve(catalog(model("a", 1)))
    notifying.sync()
    notifying.serve(catalog(model("a", 1, label="New label")))
    assert "1 updated" in notifying.sync().stdout
    assert len(receiver.received) == 1


def test_a_failing_receiver_never_fails_the_sync(notifying: Harness, receiver: Receiver) -> None:
    receiver.status = 500
    result = notifying.sync()
    assert "22 added" in result.stdout
    assert "change digest not delivered: webhook answered HTTP 500" in result.stderr
    assert len(receiver.received) == 3  # retried briefly
    assert notifying.rows("SELECT status, notified_at, notify_error FROM sync_runs") == [
        ("success", None, "webhook answered HTTP 500")
    ]
    assert receiver.url not in result.output


def test_named_env_var_missing_is_exit_2(harness: Harness) -> None:
    harness.settings = {"notify": {"webhook_url_env": "NOT_SET_ANYWHERE"}}
    result = harness.sync(expect=2)
    assert "NOT_SET_ANYWHERE is not set" in result.stderr


def test_json_logs_carry_the_run_id(harness: Harness) -> None:
    result = harness.cli("--log-format", "json", "-v", "sync")
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    during = [e for e in entries if e["logger"] == "catalog_sync.flows.sync"]
    assert during
    assert {e["run_id"] for e in during} == {1}
    assert {"ts", "level", "logger", "run_id", "message"} <= set(entries[0])


def test_the_digest_tells_re_priced_points(notifying: Harness, receiver: Receiver) -> None:
    notifying.settings["api"] = {"max_requests_per_minute": 10_000}
    notifying.settings["details"] = {"enabled": True}
    notifying.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    notifying.serve(catalog(model("a", 2, capabilities={})))
    notifying.sync()
    receiver.received.clear()
    notifying.api.pricing.reprice("a", 1.5)
    notifying.sync()  # the list is the same: only the point moved
    (digest,) = receiver.received
    assert digest["changes"]["price_point_changes"] == [
        {"name": "a", "params": "{}", "old_cost": 2.0, "new_cost": 3.0, "pct_change": 50.0}
    ]
    assert "1 price point change" in digest["text"] and "• a {}: 2 → 3 (+50%)" in digest["text"]
