#!/usr/bin/env python3
# The SQLite floor benchmarks/run.py compares `catalog-sync sync` with: the same normalised rows
# written with stdlib json + sqlite3 in one transaction (a first load, and a resync that diffs
# against the current state); run.py measures its wall time and peak RSS.
#
# Copied from shared/bench/floor_sqlite.py (the peer-benchmark folder that sat beside the
# checkout, ../shared/bench; its RESULTS.md is the run of 2026-11-23) on 2026-12-05, so that the
# benchmark needs nothing outside the repository. The logic is as it was there; what changed is
# ruff's layout, datetime.UTC for timezone.utc, an elif for an else holding an if, and
# (*row[1:], name) for row[1:] + (name,). The pathlib rules are waived (below) rather than
# rewriting its file handling.
# ruff: noqa: PTH107, PTH110, PTH123
"""The "physical floor" for catalog_sync: stdlib json + sqlite3 only.

    python floor_sqlite.py CATALOG.json --db FILE            # first load (db recreated)
    python floor_sqlite.py CATALOG.json --db FILE --resync   # apply catalog to existing db
    python floor_sqlite.py CATALOG.json --db FILE --verify   # (untimed) db == catalog?

Tables: models, capabilities (one row per (model, key, value), list values
exploded), tags, model_tags, cost_history (SCD2: valid_from/valid_to, open row
has valid_to NULL). Everything happens in one transaction.

Prints one line of key=value timings:
  parse_s  open + json.load of the file
  db_s     everything after parsing (connect, schema, building rows / reading
           current state + diffing, executing SQL, commit)
  plus a breakdown of db_s (build_s/read_s/diff_s/write_s).
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime

SCHEMA = """
CREATE TABLE models(
    name      TEXT PRIMARY KEY,
    label     TEXT NOT NULL,
    type      TEXT NOT NULL,
    provider  TEXT NOT NULL,
    base_cost REAL NOT NULL,
    has_audio INTEGER NOT NULL
);
-- value has no declared type: ints stay ints, strings stay strings
CREATE TABLE capabilities(
    model_name TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      NOT NULL,
    PRIMARY KEY (model_name, key, value)
) WITHOUT ROWID;
CREATE TABLE tags(
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE model_tags(
    model_name TEXT NOT NULL,
    tag_id     INTEGER NOT NULL,
    PRIMARY KEY (model_name, tag_id)
) WITHOUT ROWID;
CREATE TABLE cost_history(
    id         INTEGER PRIMARY KEY,
    model_name TEXT NOT NULL,
    base_cost  REAL NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT
);
"""
# created after the bulk insert on first load
INDEXES = """
CREATE UNIQUE INDEX cost_history_open ON cost_history(model_name) WHERE valid_to IS NULL;
"""

MODEL_COLS = ("name", "label", "type", "provider", "base_cost", "has_audio")


def connect(path):
    con = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA temp_store=MEMORY")
    con.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    return con


def model_row(m):
    return (
        m["name"],
        m["label"],
        m["type"],
        m["provider"],
        float(m["base_cost"]),
        1 if m["has_audio"] else 0,
    )


def cap_pairs(m):
    out = []
    for k, v in m["capabilities"].items():
        if isinstance(v, list):
            out.extend((k, x) for x in v)
        else:
            out.append((k, v))
    return out


def parse(path):
    with open(path, "rb") as f:
        return json.load(f)["models"]


def first_load(models, db):
    t = {}
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    t0 = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    mrows, crows, hrows, mt_names = [], [], [], []
    tag_names = {}
    # inserting in primary-key order is ~20% faster than catalog order at 100k
    for m in sorted(models, key=lambda m: m["name"]):
        name = m["name"]
        mrows.append(model_row(m))
        crows.extend((name, k, v) for k, v in cap_pairs(m))
        hrows.append((name, float(m["base_cost"]), now))
        for tg in m["tags"]:
            tag_names.setdefault(tg, len(tag_names) + 1)
            mt_names.append((name, tag_names[tg]))
    t1 = time.perf_counter()
    t["build_s"] = t1 - t0
    con = connect(db)
    con.execute("BEGIN")
    for stmt in SCHEMA.split(";"):  # not executescript(): that would COMMIT
        if stmt.strip():
            con.execute(stmt)
    con.executemany("INSERT INTO models VALUES (?,?,?,?,?,?)", mrows)
    con.executemany("INSERT INTO capabilities VALUES (?,?,?)", crows)
    con.executemany(
        "INSERT INTO tags(id, name) VALUES (?,?)", [(i, n) for n, i in tag_names.items()]
    )
    con.executemany("INSERT INTO model_tags VALUES (?,?)", mt_names)
    con.executemany(
        "INSERT INTO cost_history(model_name, base_cost, valid_from) VALUES (?,?,?)", hrows
    )
    for stmt in INDEXES.split(";"):
        if stmt.strip():
            con.execute(stmt)
    con.execute("COMMIT")
    con.close()
    t["write_s"] = time.perf_counter() - t1
    t["db_s"] = time.perf_counter() - t0
    t["rows"] = len(mrows) + len(crows) + len(tag_names) + len(mt_names) + len(hrows)
    return t


def read_state(con):
    cur_models = {
        r[0]: r
        for r in con.execute("SELECT name,label,type,provider,base_cost,has_audio FROM models")
    }
    cur_caps = {}
    for name, k, v in con.execute("SELECT model_name,key,value FROM capabilities"):
        s = cur_caps.get(name)
        if s is None:
            cur_caps[name] = s = set()
        s.add((k, v))
    tag_ids = {n: i for i, n in con.execute("SELECT id,name FROM tags")}
    cur_tags = {}
    for name, tid in con.execute("SELECT model_name,tag_id FROM model_tags"):
        s = cur_tags.get(name)
        if s is None:
            cur_tags[name] = s = set()
        s.add(tid)
    return cur_models, cur_caps, tag_ids, cur_tags


def resync(models, db):
    t = {}
    if not os.path.exists(db):
        sys.exit(f"{db} does not exist; run a first load")
    t0 = time.perf_counter()
    con = connect(db)
    con.execute("BEGIN IMMEDIATE")
    cur_models, cur_caps, tag_ids, cur_tags = read_state(con)
    t1 = time.perf_counter()
    t["read_s"] = t1 - t0

    now = datetime.now(UTC).isoformat()
    new_tags = []
    ins_models, upd_models = [], []
    close_hist, open_hist = [], []
    ins_caps, del_caps = [], []
    ins_mt, del_mt = [], []
    seen = set()
    empty = frozenset()
    for m in models:
        name = m["name"]
        seen.add(name)
        row = model_row(m)
        caps = set(cap_pairs(m))
        tids = set()
        for tg in m["tags"]:
            tid = tag_ids.get(tg)
            if tid is None:
                tid = tag_ids[tg] = max(tag_ids.values(), default=0) + 1
                new_tags.append((tid, tg))
            tids.add(tid)
        old = cur_models.get(name)
        if old is None:
            ins_models.append(row)
            open_hist.append((name, row[4], now))
        elif old != row:
            upd_models.append((*row[1:], name))
            if old[4] != row[4]:
                close_hist.append((now, name))
                open_hist.append((name, row[4], now))
        old_caps = cur_caps.get(name, empty)
        if old_caps != caps:
            del_caps.extend((name, k, v) for k, v in old_caps - caps)
            ins_caps.extend((name, k, v) for k, v in caps - old_caps)
        old_t = cur_tags.get(name, empty)
        if old_t != tids:
            del_mt.extend((name, x) for x in old_t - tids)
            ins_mt.extend((name, x) for x in tids - old_t)
    removed = [n for n in cur_models if n not in seen]
    for n in removed:
        close_hist.append((now, n))
        del_caps.extend((n, k, v) for k, v in cur_caps.get(n, ()))
        del_mt.extend((n, x) for x in cur_tags.get(n, ()))
    t2 = time.perf_counter()
    t["diff_s"] = t2 - t1

    con.executemany("INSERT INTO tags(id, name) VALUES (?,?)", new_tags)
    con.executemany("DELETE FROM capabilities WHERE model_name=? AND key=? AND value=?", del_caps)
    con.executemany("DELETE FROM model_tags WHERE model_name=? AND tag_id=?", del_mt)
    con.executemany("DELETE FROM models WHERE name=?", [(n,) for n in removed])
    con.executemany(
        "UPDATE models SET label=?,type=?,provider=?,base_cost=?,has_audio=? WHERE name=?",
        upd_models,
    )
    con.executemany("INSERT INTO models VALUES (?,?,?,?,?,?)", ins_models)
    con.executemany("INSERT INTO capabilities VALUES (?,?,?)", ins_caps)
    con.executemany("INSERT INTO model_tags VALUES (?,?)", ins_mt)
    con.executemany(
        "UPDATE cost_history SET valid_to=? WHERE model_name=? AND valid_to IS NULL", close_hist
    )
    con.executemany(
        "INSERT INTO cost_history(model_name, base_cost, valid_from) VALUES (?,?,?)", open_hist
    )
    con.execute("COMMIT")
    con.close()
    t["write_s"] = time.perf_counter() - t2
    t["db_s"] = time.perf_counter() - t0
    t["changed"] = len(upd_models)
    t["added"] = len(ins_models)
    t["removed"] = len(removed)
    return t


def verify(models, db):
    """Untimed correctness check: the db's current state equals the catalog."""
    con = sqlite3.connect(db)
    cur_models, cur_caps, tag_ids, cur_tags = read_state(con)
    id2tag = {i: n for n, i in tag_ids.items()}
    bad = 0
    if len(cur_models) != len(models):
        print(f"model count {len(cur_models)} != {len(models)}")
        bad += 1
    for m in models:
        n = m["name"]
        if cur_models.get(n) != model_row(m):
            bad += 1
        if cur_caps.get(n, set()) != set(cap_pairs(m)):
            bad += 1
        if {id2tag[x] for x in cur_tags.get(n, ())} != set(m["tags"]):
            bad += 1
    open_h = dict(
        con.execute("SELECT model_name, base_cost FROM cost_history WHERE valid_to IS NULL")
    )
    if open_h != {m["name"]: float(m["base_cost"]) for m in models}:
        print("open cost_history rows do not match catalog")
        bad += 1
    hist = con.execute("SELECT count(*), count(valid_to) FROM cost_history").fetchone()
    print(
        f"verify: {'OK' if not bad else f'{bad} MISMATCHES'}; cost_history rows={hist[0]} closed={hist[1]}"
    )
    return bad == 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("catalog")
    ap.add_argument("--db", required=True)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--resync", action="store_true")
    g.add_argument("--verify", action="store_true")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    models = parse(a.catalog)
    parse_s = time.perf_counter() - t0
    if a.verify:
        sys.exit(0 if verify(models, a.db) else 1)
    t = resync(models, a.db) if a.resync else first_load(models, a.db)
    mode = "resync" if a.resync else "first_load"
    extra = " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in t.items())
    print(
        f"floor {mode} models={len(models)} parse_s={parse_s:.3f} {extra} total_s={parse_s + t['db_s']:.3f}"
    )


if __name__ == "__main__":
    main()
