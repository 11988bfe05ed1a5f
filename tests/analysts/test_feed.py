"""The change feed (SPEC "In the tools people use"): `catalog-sync feed --out FILE
[--since WHEN]` and `[feed] path`, read back as a feed reader reads them
(feedparser) and as XML (xml.etree), against real histories on both backends."""

from __future__ import annotations

import copy
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import feedparser
from support.catalogs import catalog, history_catalogs, model
from support.databases import Databases
from support.harness import Harness
from support.history import build_history

from catalog_sync.analysts.feed import write_feed
from catalog_sync.storage.engine import make_engine

ATOM = "{http://www.w3.org/2005/Atom}"
TAG_ID = re.compile(
    r"tag:catalog-sync,2026:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"/(catalog_changes|price_points)/[0-9]+"
)
# What XML 1.0 cannot hold, and what a terminal or a reader would act on.
RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SINCE_EVER = "2026-01-01"

# Changes of the test history (docs/queries.md), as their entries are titled.
KNOWN_TITLES = {
    "veo-3.1-lite: 4 -> 5 credits (+25%)": "2026-10-01",
    "seedance-2.0: 34.05 -> 30 credits (-11.89%)": "2026-10-01",
    "added flux-2-pro at 2 credits": "2026-10-01",
    "veo-3.1: 32 -> 28 credits (-12.5%)": "2026-11-01",
    "kling-pro: 7.5 -> 8 credits (+6.67%)": "2026-11-01",
    "z-image-turbo: 0.1 -> 0.15 credits (+50%)": "2026-11-01",
    "flux-2-pro: 2 -> 2.5 credits (+25%)": "2026-11-01",
    "removed grok-imagine-video-edit": "2026-11-01",
    "restored grok-imagine-video-edit at 5 credits": "2026-11-15",
    "grok-imagine-video-edit: 4 -> 5 credits (+25%)": "2026-11-15",
    "veo-3.1: 28 -> 30 credits (+7.14%)": "2026-11-15",
    "added veo-3.1 at 32 credits": "2026-09-01",
}
# The two points Hoox re-priced on 11-01 (their base costs unchanged).
KNOWN_POINT_TITLES = {
    "veo-3.1-flf 8s 1080p generateAudio off: 28.8 -> 36 credits (+25%)",
    "veo-3.1-flf 8s 1080p generateAudio on: 48 -> 60 credits (+25%)",
    "seedance-1.5 10s 1080p: 7.8 -> 8.58 credits (+10%)",
}


def write(h: Harness, *args: str, name: str = "feed.xml") -> tuple[Path, Any]:
    """`catalog-sync feed --out` into tmp_path; the file and what feedparser reads."""
    out = h.tmp_path / name
    result = h.cli("feed", "--out", str(out), *args)
    assert result.exit_code == 0, (result.output, result.stderr)
    parsed = feedparser.parse(out.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert result.stdout == f"wrote {len(parsed.entries)} entries to {out}\n"
    return out, parsed


def when(entry: Any) -> dt.datetime:
    return dt.datetime(*entry.updated_parsed[:6], tzinfo=dt.UTC)


def count(h: Harness, sql: str) -> int:
    return int(h.rows(sql)[0][0])


def test_one_entry_per_change_newest_first(priced_history: Harness) -> None:
    h = priced_history
    out, feed = write(h, "--since", SINCE_EVER)
    entries = feed.entries
    expected = {
        "price": count(
            h, "SELECT count(*) FROM catalog_changes WHERE kind = 'updated' AND field = 'base_cost'"
        ),
        "price_point": count(h, "SELECT count(*) FROM price_point_changes"),
        **{
            kind: count(h, f"SELECT count(*) FROM catalog_changes WHERE kind = '{kind}'")
            for kind in ("added", "removed", "restored")
        },
    }
    assert expected["price_point"] > 0 and expected["restored"] == 1
    assert Counter(e.tags[0].term for e in entries) == expected
    assert len(entries) == sum(expected.values())

    moments = [when(e) for e in entries]
    assert moments == sorted(moments, reverse=True)
    assert moments[0] == dt.datetime(2026, 11, 15, 6, tzinfo=dt.UTC)
    assert when(feed.feed) == moments[0]  # the feed's updated: its newest entry

    titles = {e.title: e for e in entries}
    for title, day in KNOWN_TITLES.items():
        assert title in titles, title
        assert when(titles[title]) == dt.datetime.fromisoformat(day).replace(hour=6, tzinfo=dt.UTC)
    assert titles.keys() >= KNOWN_POINT_TITLES

    ids = [e.id for e in entries]
    assert len(set(ids)) == len(ids)
    assert all(TAG_ID.fullmatch(i) for i in ids), ids[:3]
    assert re.fullmatch(TAG_ID.pattern.split("/", 1)[0] + "/feed", feed.feed.id)

    # Each id names its own change: a catalog_changes row, or the new period of a point.
    veo = titles["veo-3.1: 32 -> 28 credits (-12.5%)"]
    change_id = int(veo.id.rsplit("/", 1)[1])
    [(run, field, name)] = h.rows(
        "SELECT c.sync_run_id, c.field, m.name FROM catalog_changes c"
        " JOIN models m ON m.id = c.model_id WHERE c.id = :id",
        id=change_id,
    )
    assert (field, name) == ("base_cost", "veo-3.1")
    assert f"Sync run {run}," in veo.summary and "2026-11-01 06:00:00 UTC" in veo.summary
    assert "provider google" in veo.summary and "type video" in veo.summary
    assert "(-4 credits, -12.5%)" in veo.summary and veo.content[0].value == veo.summary
    removed = titles["removed grok-imagine-video-edit"].summary
    assert "left the catalog with a last base cost of 4 credits." in removed
    restored = titles["restored grok-imagine-video-edit at 5 credits"].summary
    assert "is back in the catalog at a base cost of 5 credits." in restored
    point_ids = [int(e.id.rsplit("/", 1)[1]) for e in entries if "/price_points/" in e.id]
    periods = h.rows(
        "SELECT m.name, p.params, p.valid_from FROM price_points p"
        f" JOIN models m ON m.id = p.model_id WHERE p.id IN ({','.join(map(str, point_ids))})"
    )
    assert Counter(periods) == Counter(
        h.rows("SELECT model, params, changed_at FROM price_point_changes")
    )

    # Atom as XML: a link-free feed whose entries carry text content.
    root = ET.fromstring(out.read_bytes())
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert not list(root.iter(f"{ATOM}link"))
    assert b"http" not in out.read_bytes().replace(b"http://www.w3.org/2005/Atom", b"")
    for entry in root.iter(f"{ATOM}entry"):
        for child in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{child}") is not None
        for child in ("summary", "content"):
            element = entry.find(f"{ATOM}{child}")
            assert element is not None and element.get("type") == "text"


def test_ids_are_stable_and_belong_to_one_database(
    history: Harness, databases: Databases, tmp_path: Path
) -> None:
    h = history
    _, first = write(h, "--since", SINCE_EVER)
    _, again = write(h, "--since", SINCE_EVER, name="again.xml")
    assert [(e.id, e.title) for e in first.entries] == [(e.id, e.title) for e in again.entries]
    assert first.feed.id == again.feed.id

    # Another run: the new change comes first; every old entry keeps its id.
    document = history_catalogs()[6]
    assert isinstance(document, dict)
    document = copy.deepcopy(document)
    next(m for m in document["models"] if m["name"] == "veo-3.1")["base_cost"] = 33
    h.serve(document)
    h.sync()
    _, later = write(h, "--since", SINCE_EVER, name="later.xml")
    assert later.entries[0].title == "veo-3.1: 30 -> 33 credits (+10%)"
    assert len(later.entries) == len(first.entries) + 1
    assert {(e.id, e.title) for e in first.entries} < {(e.id, e.title) for e in later.entries}

    # The same history in another database: the same titles, other ids.
    other = Harness(api=h.api, db_url=databases.new(), tmp_path=tmp_path / "other")
    other.tmp_path.mkdir()
    build_history(other.api, other.db_url)
    _, theirs = write(other, "--since", SINCE_EVER)
    assert sorted(e.title for e in theirs.entries) == sorted(e.title for e in first.entries)
    assert not {e.id for e in theirs.entries} & {e.id for e in first.entries}
    assert theirs.feed.id != first.feed.id


def test_since_and_the_default_window(history: Harness) -> None:
    h = history
    _, feed = write(h, "--since", "2026-11-01")
    assert feed.entries and all(
        when(e) >= dt.datetime(2026, 11, 1, tzinfo=dt.UTC) for e in feed.entries
    )
    assert len(feed.entries) == count(
        h,
        "SELECT count(*) FROM catalog_changes WHERE changed_at >= '2026-11-01 00:00:00+00'"
        " AND (kind <> 'updated' OR field = 'base_cost')",
    )
    _, later = write(h, "--since", "2026-11-15T06:00:01Z", name="none.xml")
    assert later.entries == []

    # No --since: the last 30 days, and 500 entries at most.
    engine = make_engine(h.db_url)
    try:
        path = h.tmp_path / "window.xml"
        now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
        n = write_feed(engine, path, now=now)
        window = feedparser.parse(path.read_bytes()).entries
        assert n == len(window) and {when(e).date() for e in window} == {
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 15),
        }
        assert write_feed(engine, path, now=now, limit=3) == 3
        assert [when(e).day for e in feedparser.parse(path.read_bytes()).entries] == [15, 15, 15]
        empty = write_feed(engine, path, now=dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
        parsed = feedparser.parse(path.read_bytes())
        assert empty == 0 and parsed.entries == [] and when(parsed.feed).year == 2027
    finally:
        engine.dispose()
    assert sorted(p.name for p in h.tmp_path.glob("*.xml*")) == [
        "feed.xml",
        "none.xml",
        "window.xml",
    ]  # no temporary file left behind


HOSTILE = {
    "script": "<script>alert(1)</script>",
    "ansi": "esc\x1b[2Jbell\x07",
    "c1": "c1\x9b31mbidi\u202edone",
    "nul": "nul\x00name",
}


def test_text_from_the_api_stays_text(harness: Harness) -> None:
    h = harness
    items = [
        model(HOSTILE["script"], 1, label="</summary>&amp;<b>bold</b>", provider="<i>p</i>"),
        model(HOSTILE["ansi"], 2, label="clip\x1b]52;c;aGVsbG8=\x07board", type="video\x08"),
        model(HOSTILE["c1"], 3, provider="osc\x1b]8;;http://127.0.0.1/x\x1b\\link"),
        model(HOSTILE["nul"], 4, label="tab\there\nline\ufffe\uffff"),
    ]
    h.serve(catalog(*items))
    h.sync()
    for item in items:
        item["base_cost"] += 1
    h.serve(catalog(*items))
    h.sync()
    out, feed = write(h, "--since", SINCE_EVER)
    data = out.read_bytes()

    root = ET.fromstring(data)  # well-formed XML 1.0
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1].lower() in ("script", "b", "i")]
    assert b"<script" not in data and b"<b>" not in data
    assert RAW_CONTROL.search(data.decode("utf-8")) is None
    assert "\ufffe" not in data.decode("utf-8") and "\uffff" not in data.decode("utf-8")

    titles = {e.title for e in feed.entries}
    assert titles >= {
        "added <script>alert(1)</script> at 1 credits",
        "<script>alert(1)</script>: 1 -> 2 credits (+100%)",
        "added esc\\x1b[2Jbell\\x07 at 2 credits",
        "esc\\x1b[2Jbell\\x07: 2 -> 3 credits (+50%)",
        "added c1\\x9b31mbidi\\u202edone at 3 credits",
        "added nul\ufffdname at 4 credits",
    }
    xml_titles = {e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")}
    assert "added <script>alert(1)</script> at 1 credits" in xml_titles
    summaries = " ".join(e.summary for e in feed.entries)
    assert 'label "</summary>&amp;<b>bold</b>"' in summaries
    assert "provider <i>p</i>" in summaries and "type video\\x08" in summaries
    assert "osc\\x1b]8;;http://127.0.0.1/x\\x1b\\\\link" in summaries  # a backslash shown as two
    assert "tab\\x09here\\x0aline\\ufffe\\uffff" in summaries


def test_sync_writes_the_configured_feed(harness: Harness) -> None:
    h = harness
    path = h.tmp_path / "news" / "catalog.atom"
    path.parent.mkdir()
    h.settings["feed"] = {"path": str(path)}
    h.sync()
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo
    assert len(feed.entries) == 22 and {e.tags[0].term for e in feed.entries} == {"added"}

    # A failed run leaves the file alone.
    path.write_bytes(b"the feed as it was")
    h.api.serve_body(b'{"models": "oops"}')
    h.sync(expect=1)
    assert path.read_bytes() == b"the feed as it was"

    # The next successful one writes it again (an unchanged catalog: the same entries).
    h.sync()
    again = feedparser.parse(path.read_bytes())
    assert [e.id for e in again.entries] == [e.id for e in feed.entries]
    assert sorted(p.name for p in path.parent.iterdir()) == ["catalog.atom"]

    # Unchanged content: the file is not replaced (its mtime stays).
    before = path.stat().st_mtime_ns
    h.sync()
    assert path.stat().st_mtime_ns == before


def test_a_feed_that_cannot_be_written_does_not_fail_the_sync(harness: Harness) -> None:
    h = harness
    h.settings["feed"] = {"path": str(h.tmp_path / "missing" / "feed.xml")}
    result = h.sync()
    assert result.stdout.startswith("sync ok")
    assert "could not write the feed" in result.stderr


def test_feed_command_messages_and_exit_codes(history: Harness, fresh: Harness) -> None:
    h = history
    out = h.tmp_path / "cli.xml"
    result = h.cli("feed", "--out", str(out), "--since", "2026-11-15")
    assert result.exit_code == 0, result.output
    n = count(
        h, "SELECT count(*) FROM catalog_changes WHERE kind <> 'updated' OR field = 'base_cost'"
    )
    entries = feedparser.parse(out.read_bytes()).entries
    assert 0 < len(entries) < n
    assert result.stdout == f"wrote {len(entries)} entries to {out}\n"

    bad = h.cli("feed", "--out", str(out), "--since", "last tuesday")
    assert bad.exit_code == 2 and "--since" in bad.stderr

    missing = h.cli("feed")
    assert missing.exit_code == 2 and "--out" in missing.stderr

    unwritable = h.cli("feed", "--out", str(h.tmp_path / "no" / "such" / "dir.xml"))
    assert unwritable.exit_code == 2
    assert unwritable.stderr.startswith("error: cannot write the feed")

    help_text = h.cli("feed", "--help")
    assert help_text.exit_code == 0 and "--since WHEN" in help_text.stdout

    empty = fresh.cli("feed", "--out", str(fresh.tmp_path / "empty.xml"))
    assert empty.exit_code == 1 and "no catalog yet" in empty.stderr


def test_the_identity_is_made_once(history: Harness) -> None:
    h = history
    assert count(h, "SELECT count(*) FROM database_identity") == 0
    _, first = write(h, "--since", SINCE_EVER)
    [(uuid,)] = h.rows("SELECT uuid FROM database_identity")
    assert first.feed.id == f"tag:catalog-sync,2026:{uuid}/feed"
    assert all(e.id.startswith(f"tag:catalog-sync,2026:{uuid}/") for e in first.entries)
