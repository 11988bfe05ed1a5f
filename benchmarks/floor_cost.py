#!/usr/bin/env python3
# The cost floor (not run by run.py yet): prices a usage CSV (model, at[, count]) against the
# cost_history periods of a SQLite database catalog-sync wrote, with stdlib csv + sqlite3 (a
# temporary table and one join; exact decimal sums); what a `catalog-sync cost --usage` is to be
# measured against.
#
# Copied from shared/bench/floor_cost.py (the peer-benchmark folder that sat beside the
# checkout, ../shared/bench; its RESULTS.md is the run of 2026-11-23) on 2026-12-05, so that the
# benchmark needs nothing outside the repository. The logic is as it was there; what changed is
# ruff's layout and datetime.UTC for timezone.utc. The pathlib rules are waived (below) rather
# than rewriting its file handling.
# ruff: noqa: PTH123
"""The "physical floor" for `catalog-sync cost --usage`: stdlib csv + sqlite3 only.

    python floor_cost.py --db CATALOG.db --usage USAGE.csv            # the floor (timed)
    python floor_cost.py --db CATALOG.db --usage USAGE.csv --verify   # (untimed) the same answer another way

CATALOG.db is a database catalog-sync wrote (SQLite); it is opened read-only and
never changed. USAGE.csv has a header naming at least `model` and `at` (ISO 8601; a
time without an offset is UTC) and optionally `count` (default 1); other columns, such
as an empty `duration`, are ignored: every record is priced as the model's defaults,
which its base_cost prices.

The records are loaded into a temporary table and LEFT JOINed to the `cost_history`
period of their model (through `models`, on the name) that covers their time,
half-open: valid_from <= at < coalesce(valid_to, +inf). A record with no such period
(a name never in the catalog, a time before the model was first seen or after its
removal) is unpriced. SQLite compares these times as text, so `at` is first written in
the tables' own form, SQLAlchemy's `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (a stored time
without its fraction still compares right against one with six digits). The credits are
summed exactly: as integers (base_cost x 10**d, d the most decimals any price has), or,
for prices with more than 6 decimals, one sum of counts per price multiplied in decimal.

Prints one line of key=value (the last line):
  records      records read
  generations  the sum of count over all records
  priced       records with a covering period
  credits      the sum of base_cost x count over priced records, exact (decimal)
  load_s       open, check and load the CSV into the temporary table
  join_s       the join and its sums
  total_s      both

--verify reads the periods into Python lists and prices each record by bisect over
datetime objects (no SQL join), then says whether both answers agree.
"""

import argparse
import bisect
import csv
import re
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

OPEN_END = "9999-12-31 23:59:59.999999"  # +inf for an open period, in the tables' text form
STORED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?")
MAX_SCALE = 6  # decimals of a price up to which the credits are summed as integers

JOINED = f"""
FROM temp.usage AS u
LEFT JOIN models AS m ON m.name = u.model
LEFT JOIN cost_history AS ch
  ON ch.model_id = m.id AND ch.valid_from <= u.at AND u.at < coalesce(ch.valid_to, '{OPEN_END}')"""
# ? = 10**d: base_cost x 10**d is a whole number for every price
SUMS = (
    "SELECT count(*), sum(u.count), count(ch.id), sum(CAST(round(ch.base_cost * ?) AS INTEGER) * u.count)"
    + JOINED
)
BY_PRICE = "SELECT ch.base_cost, count(*), sum(u.count)" + JOINED + "\nGROUP BY ch.base_cost"


def connect_read_only(path):
    con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    con.execute("PRAGMA temp_store=MEMORY")
    con.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    return con


def check_stored_form(con):
    """Exit unless the stored period bounds are text of the form the join compares against
    (one of each: one column type writes them all; --verify would show a mix)."""
    for column in ("valid_from", "valid_to"):
        row = con.execute(
            f"SELECT {column} FROM cost_history WHERE {column} IS NOT NULL LIMIT 1"
        ).fetchone()
        if row and not (isinstance(row[0], str) and STORED.fullmatch(row[0])):
            sys.exit(
                f"cost_history.{column} {row[0]!r} is not in the YYYY-MM-DD HH:MM:SS[.ffffff] form"
            )


def as_decimal(cost):
    """A stored price as the decimal it was written as (a float's shortest repr)."""
    return Decimal(repr(cost)) if isinstance(cost, float) else Decimal(cost)


def decimals(con):
    """The most decimals any base_cost has."""
    most = 0
    for (cost,) in con.execute("SELECT DISTINCT base_cost FROM cost_history"):
        exponent = as_decimal(cost).normalize().as_tuple().exponent
        if isinstance(exponent, int):
            most = max(most, -exponent)
    return most


def parse_at(text):
    """An ISO 8601 time as a naive UTC datetime (no offset: UTC)."""
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def stored_at(text):
    """`at` in the tables' text form, `YYYY-MM-DD HH:MM:SS.ffffff` (UTC)."""
    if (
        len(text) == 27 and text[10] == "T" and text[19] == "." and text[26] == "Z"
    ):  # ...THH:MM:SS.ffffffZ
        return f"{text[:10]} {text[11:26]}"
    return parse_at(text).strftime("%Y-%m-%d %H:%M:%S.%f")


def columns(header):
    try:
        model, at = header.index("model"), header.index("at")
    except ValueError:
        sys.exit(f"the usage header {header} lacks `model` or `at`")
    return model, at, (header.index("count") if "count" in header else None)


def usage_rows(path):
    """(model, at as stored, count) per record, streamed."""
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        model, at, count = columns(next(reader))
        if count is None:
            for row in reader:
                yield row[model], stored_at(row[at]), 1
        else:
            for row in reader:
                yield row[model], stored_at(row[at]), int(row[count]) if row[count] else 1


def floor(db, usage):
    t = {}
    t0 = time.perf_counter()
    con = connect_read_only(db)
    check_stored_form(con)
    con.execute(
        "CREATE TEMP TABLE usage(model TEXT NOT NULL, at TEXT NOT NULL, count INTEGER NOT NULL)"
    )
    con.execute("BEGIN")
    con.executemany("INSERT INTO temp.usage VALUES (?,?,?)", usage_rows(usage))
    con.execute("COMMIT")
    t1 = time.perf_counter()
    t["load_s"] = t1 - t0
    scale = decimals(con)
    if scale <= MAX_SCALE:
        records, generations, priced, units = con.execute(SUMS, (10**scale,)).fetchone()
        credits = Decimal(units or 0).scaleb(-scale)
    else:
        records = generations = priced = 0
        credits = Decimal(0)
        for cost, n, count in con.execute(BY_PRICE):
            records += n
            generations += count
            if cost is not None:
                priced += n
                credits += as_decimal(cost) * count
    con.close()
    t["join_s"] = time.perf_counter() - t1
    t["total_s"] = time.perf_counter() - t0
    return {
        "records": records,
        "generations": generations or 0,
        "priced": priced,
        "credits": credits,
        **t,
    }


def verify(db, usage, answer):
    """Untimed: price every record by bisect over each model's periods, as datetimes."""
    con = connect_read_only(db)
    periods = defaultdict(list)  # name -> [(valid_from, valid_to or None, base_cost)] by valid_from
    rows = con.execute(
        "SELECT m.name, ch.valid_from, ch.valid_to, ch.base_cost"
        " FROM cost_history ch JOIN models m ON m.id = ch.model_id ORDER BY m.name, ch.valid_from"
    )
    for name, valid_from, valid_to, cost in rows:
        end = None if valid_to is None else datetime.fromisoformat(valid_to)
        periods[name].append((datetime.fromisoformat(valid_from), end, as_decimal(cost)))
    con.close()
    starts = {name: [p[0] for p in found] for name, found in periods.items()}
    records = generations = priced = 0
    credits = Decimal(0)
    with open(usage, newline="") as fh:
        for row in csv.DictReader(fh):
            count = int(row["count"]) if row.get("count") else 1
            records += 1
            generations += count
            name, at = row["model"], parse_at(row["at"])
            i = bisect.bisect_right(starts.get(name, []), at) - 1
            if i < 0:
                continue
            start, end, cost = periods[name][i]
            if start <= at and (end is None or at < end):
                priced += 1
                credits += cost * count
    mine = {"records": records, "generations": generations, "priced": priced, "credits": credits}
    bad = [f"{k} {answer[k]} (join) != {v} (bisect)" for k, v in mine.items() if answer[k] != v]
    figures = " ".join(f"{k}={v}" for k, v in mine.items())
    print(f"verify: {'OK' if not bad else 'MISMATCH: ' + '; '.join(bad)}; bisect {figures}")
    return not bad


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--db", required=True, help="a SQLite database catalog-sync wrote (opened read-only)"
    )
    ap.add_argument("--usage", required=True, help="the usage CSV (model, at[, count])")
    ap.add_argument(
        "--verify", action="store_true", help="(untimed) also price it by bisect and compare"
    )
    a = ap.parse_args(argv)
    t = floor(a.db, a.usage)
    ok = verify(a.db, a.usage, t) if a.verify else True
    line = " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in t.items())
    print(f"floor cost {line}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
