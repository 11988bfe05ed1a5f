#!/usr/bin/env python3
# The PostgreSQL floor that run.py measures beside `catalog-sync sync` on PostgreSQL (first load
# and resync): the same rows as floor_sqlite.py, written with stdlib json + psycopg 3, every bulk
# write a COPY, in one transaction.
#
# Copied from shared/bench/floor_pg.py (the peer-benchmark folder that sat beside the checkout,
# ../shared/bench; its RESULTS.md is the run of 2026-11-23) on 2026-12-05, so that the benchmark
# needs nothing outside the repository. The logic is as it was there; what changed is ruff's
# layout, datetime.UTC for timezone.utc, an elif for an else holding an if, and (*row[1:], name)
# for row[1:] + (name,). The pathlib rules are waived (below) rather than rewriting its file
# handling, and so is the branch count of resync().
# ruff: noqa: PTH123, PLR0912
"""The "physical floor" for catalog_sync on PostgreSQL: stdlib json + psycopg 3 (COPY).

    python floor_pg.py CATALOG.json --db URL            # first load (its tables made again)
    python floor_pg.py CATALOG.json --db URL --resync   # apply catalog to the existing tables
    python floor_pg.py CATALOG.json --db URL --verify   # (untimed) db == catalog?

URL is a libpq URL (postgresql://user@host:port/dbname) of a database of its own:
a first load drops and creates its five tables (in a fresh database that costs
nothing).

The same normalised rows as floor_sqlite.py, built the same way: models,
capabilities (one row per (model, key, value), list values exploded), tags,
model_tags, cost_history (SCD2: valid_from/valid_to, open row has valid_to
NULL), with the same keys and the same partial unique index on the open
period. Everything happens in one transaction. Differences PostgreSQL forces
or invites:
  * on a first load the keys, like the index, are made after the COPY (SQLite's
    WITHOUT ROWID tables must be created with theirs);
  * a column has a type: capability values are TEXT (strings as they are,
    other JSON scalars as JSON text: 5 -> '5', true -> 'true'; the product
    stores them the same way), so that the resync's diff compares like with like;
  * every bulk write is a COPY (cursor.copy + write_row): the first load's five
    tables, and the resync's inserts; the resync's deletes and updates go as one
    set-based statement each, their keys COPYed into temporary tables (the
    same rows floor_sqlite's executemany touches, without a round trip each);
  * the resync takes the tables' write lock first, as BEGIN IMMEDIATE does.
The session keeps the server's defaults (synchronous_commit on): as durable
as the product's own commit.

Prints one line of key=value timings:
  parse_s  open + json.load of the file
  db_s     everything after parsing (connect, schema, building rows / reading
           current state + diffing, COPY and SQL, commit)
  plus a breakdown of db_s (build_s/read_s/diff_s/write_s).
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime

import psycopg

TABLES = ("cost_history", "model_tags", "tags", "capabilities", "models")

# The tables bare: their keys come after the COPY on a first load (one sort per key
# instead of a B-tree insertion per row; floor_sqlite's WITHOUT ROWID tables must be
# created with theirs, PostgreSQL's need not).
SCHEMA = """
CREATE TABLE models(
    name      TEXT NOT NULL,
    label     TEXT NOT NULL,
    type      TEXT NOT NULL,
    provider  TEXT NOT NULL,
    base_cost DOUBLE PRECISION NOT NULL,
    has_audio INTEGER NOT NULL
);
-- value: JSON scalars as text (see cap_text)
CREATE TABLE capabilities(
    model_name TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL
);
CREATE TABLE tags(
    id   INTEGER NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE model_tags(
    model_name TEXT NOT NULL,
    tag_id     INTEGER NOT NULL
);
CREATE TABLE cost_history(
    id         SERIAL NOT NULL,
    model_name TEXT NOT NULL,
    base_cost  DOUBLE PRECISION NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT
);
"""
# created after the bulk insert on first load: floor_sqlite's keys and its index
INDEXES = """
ALTER TABLE models ADD PRIMARY KEY (name);
ALTER TABLE capabilities ADD PRIMARY KEY (model_name, key, value);
ALTER TABLE tags ADD PRIMARY KEY (id), ADD UNIQUE (name);
ALTER TABLE model_tags ADD PRIMARY KEY (model_name, tag_id);
ALTER TABLE cost_history ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX cost_history_open ON cost_history(model_name) WHERE valid_to IS NULL;
"""

MODEL_COLS = ("name", "label", "type", "provider", "base_cost", "has_audio")


def connect(url):
    return psycopg.connect(url)  # not autocommit: the first statement opens the transaction


def statements(sql):
    return [s for s in sql.split(";") if s.strip()]


def model_row(m):
    return (
        m["name"],
        m["label"],
        m["type"],
        m["provider"],
        float(m["base_cost"]),
        1 if m["has_audio"] else 0,
    )


def cap_text(v):
    """A capability value as stored: strings as they are, other JSON values as JSON text."""
    return v if type(v) is str else json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def cap_pairs(m):
    out = []
    for k, v in m["capabilities"].items():
        if isinstance(v, list):
            out.extend((k, cap_text(x)) for x in v)
        else:
            out.append((k, cap_text(v)))
    return out


def parse(path):
    with open(path, "rb") as f:
        return json.load(f)["models"]


def copy_rows(cur, table, cols, rows):
    with cur.copy(f"COPY {table} ({','.join(cols)}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def first_load(models, url):
    t = {}
    t0 = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    mrows, crows, hrows, mt_names = [], [], [], []
    tag_names = {}
    # in primary-key order, as floor_sqlite inserts (the keys made after the COPY sort presorted rows)
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
    con = connect(url)
    cur = con.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")  # a fresh database has none
    for stmt in statements(SCHEMA):
        cur.execute(stmt)
    copy_rows(cur, "models", MODEL_COLS, mrows)
    copy_rows(cur, "capabilities", ("model_name", "key", "value"), crows)
    copy_rows(cur, "tags", ("id", "name"), [(i, n) for n, i in tag_names.items()])
    copy_rows(cur, "model_tags", ("model_name", "tag_id"), mt_names)
    copy_rows(cur, "cost_history", ("model_name", "base_cost", "valid_from"), hrows)
    for stmt in statements(INDEXES):
        cur.execute(stmt)
    con.commit()
    con.close()
    t["write_s"] = time.perf_counter() - t1
    t["db_s"] = time.perf_counter() - t0
    t["rows"] = len(mrows) + len(crows) + len(tag_names) + len(mt_names) + len(hrows)
    return t


def read_state(con):
    cur = con.cursor()
    cur.execute("SELECT name,label,type,provider,base_cost,has_audio FROM models")
    cur_models = {r[0]: r for r in cur}
    cur_caps = {}
    cur.execute("SELECT model_name,key,value FROM capabilities")
    for name, k, v in cur:
        s = cur_caps.get(name)
        if s is None:
            cur_caps[name] = s = set()
        s.add((k, v))
    cur.execute("SELECT id,name FROM tags")
    tag_ids = {n: i for i, n in cur}
    cur_tags = {}
    cur.execute("SELECT model_name,tag_id FROM model_tags")
    for name, tid in cur:
        s = cur_tags.get(name)
        if s is None:
            cur_tags[name] = s = set()
        s.add(tid)
    return cur_models, cur_caps, tag_ids, cur_tags


def resync(models, url):
    t = {}
    t0 = time.perf_counter()
    con = connect(url)
    cur = con.cursor()
    cur.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'models'"
    )
    if not cur.fetchone()[0]:
        sys.exit(f"{url} has no floor tables; run a first load")
    # what BEGIN IMMEDIATE does in floor_sqlite: no other writer from here on
    cur.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
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
                close_hist.append(name)
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
        close_hist.append(n)
        del_caps.extend((n, k, v) for k, v in cur_caps.get(n, ()))
        del_mt.extend((n, x) for x in cur_tags.get(n, ()))
    t2 = time.perf_counter()
    t["diff_s"] = t2 - t1

    copy_rows(cur, "tags", ("id", "name"), new_tags)
    if del_caps:
        cur.execute(
            "CREATE TEMP TABLE del_caps(model_name TEXT, key TEXT, value TEXT) ON COMMIT DROP"
        )
        copy_rows(cur, "del_caps", ("model_name", "key", "value"), del_caps)
        cur.execute(
            "DELETE FROM capabilities c USING del_caps d"
            " WHERE c.model_name = d.model_name AND c.key = d.key AND c.value = d.value"
        )
    if del_mt:
        cur.execute("CREATE TEMP TABLE del_mt(model_name TEXT, tag_id INTEGER) ON COMMIT DROP")
        copy_rows(cur, "del_mt", ("model_name", "tag_id"), del_mt)
        cur.execute(
            "DELETE FROM model_tags t USING del_mt d WHERE t.model_name = d.model_name AND t.tag_id = d.tag_id"
        )
    if removed:
        cur.execute("DELETE FROM models WHERE name = ANY(%s)", (removed,))
    if upd_models:
        cur.execute("CREATE TEMP TABLE upd_models (LIKE models) ON COMMIT DROP")
        copy_rows(cur, "upd_models", MODEL_COLS[1:] + MODEL_COLS[:1], upd_models)
        cur.execute(
            "UPDATE models m SET label = u.label, type = u.type, provider = u.provider,"
            " base_cost = u.base_cost, has_audio = u.has_audio FROM upd_models u WHERE m.name = u.name"
        )
    copy_rows(cur, "models", MODEL_COLS, ins_models)
    copy_rows(cur, "capabilities", ("model_name", "key", "value"), ins_caps)
    copy_rows(cur, "model_tags", ("model_name", "tag_id"), ins_mt)
    if close_hist:
        cur.execute(
            "UPDATE cost_history SET valid_to = %s WHERE model_name = ANY(%s) AND valid_to IS NULL",
            (now, close_hist),
        )
    copy_rows(cur, "cost_history", ("model_name", "base_cost", "valid_from"), open_hist)
    con.commit()
    con.close()
    t["write_s"] = time.perf_counter() - t2
    t["db_s"] = time.perf_counter() - t0
    t["changed"] = len(upd_models)
    t["added"] = len(ins_models)
    t["removed"] = len(removed)
    return t


def verify(models, url):
    """Untimed correctness check: the db's current state equals the catalog."""
    con = connect(url)
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
    cur = con.cursor()
    open_h = dict(
        cur.execute("SELECT model_name, base_cost FROM cost_history WHERE valid_to IS NULL")
    )
    if open_h != {m["name"]: float(m["base_cost"]) for m in models}:
        print("open cost_history rows do not match catalog")
        bad += 1
    hist = cur.execute("SELECT count(*), count(valid_to) FROM cost_history").fetchone()
    con.close()
    print(
        f"verify: {'OK' if not bad else f'{bad} MISMATCHES'}; cost_history rows={hist[0]} closed={hist[1]}"
    )
    return bad == 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("catalog")
    ap.add_argument(
        "--db",
        required=True,
        help="libpq URL of the database, e.g. postgresql://postgres@127.0.0.1:5432/floor",
    )
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
        f"floor_pg {mode} models={len(models)} parse_s={parse_s:.3f} {extra} total_s={parse_s + t['db_s']:.3f}"
    )


if __name__ == "__main__":
    main()
