#!/usr/bin/env python3
# The dlt peer (optional): the same job done with dlt (merge/scd2 into SQLite). run.py runs it
# with --dlt-python (default /tmp/dltvenv/bin/python) when that interpreter has dlt:
#     python3 -m venv /tmp/dltvenv && /tmp/dltvenv/bin/pip install "dlt[sqlalchemy]"
#
# Copied from shared/bench/peer_dlt.py (the peer-benchmark folder that sat beside the checkout,
# ../shared/bench; its RESULTS.md is the run of 2026-11-23) on 2026-12-05, so that the benchmark
# needs nothing outside the repository. The logic is as it was there; what changed is ruff's
# layout and three E402 suppressions ruff reports as unused. The pathlib rules are waived
# (below) rather than rewriting its file handling.
# ruff: noqa: PTH100, PTH103, PTH110, PTH118, PTH123
"""Peer: the catalog_sync job done with dlt, SCD2 merge into SQLite.

    /tmp/dltvenv/bin/python peer_dlt.py CATALOG.json --workdir DIR [--fresh]

--fresh wipes DIR first (day-1 / first load); without it the run reuses the
pipeline state and database in DIR (day-2 load).

Destination: dlt's `sqlalchemy` destination with a sqlite URL
(sqlite:///DIR/catalog.db). dlt maps the dataset to an ATTACHed file
DIR/catalog__catalog.db (staging: DIR/catalog__catalog_staging.db) and sets
journal_mode=WAL, synchronous=NORMAL itself.

The resource is the parsed `models` list, write_disposition merge/scd2; dlt
flattens `capabilities` into columns of `models` and normalises the nested
lists into child tables (models__tags, models__capabilities__supported_*).
The file is read from disk (no HTTP) so parse cost is comparable with the floor.

Prints one line: parse_s (json.load), extract_s, normalize_s, load_s,
dlt_s (= extract+normalize+load), total_s (parse+dlt), import_s (import dlt).
"""

import os
import sys
import time

# no telemetry calls out of the sandbox; keep logs quiet
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

import argparse
import json
import shutil

_t_imp = time.perf_counter()
import dlt  # noqa: E402

IMPORT_S = time.perf_counter() - _t_imp


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("catalog")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--fresh", action="store_true", help="wipe workdir first (first load)")
    ap.add_argument(
        "--show", action="store_true", help="print table row counts afterwards (untimed)"
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="(untimed) check active SCD2 rows == catalog afterwards; exit 1 if not",
    )
    a = ap.parse_args(argv)

    workdir = os.path.abspath(a.workdir)
    if a.fresh and os.path.exists(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir, exist_ok=True)

    t0 = time.perf_counter()
    with open(a.catalog, "rb") as f:
        models = json.load(f)["models"]
    t1 = time.perf_counter()

    @dlt.resource(
        name="models",
        write_disposition={"disposition": "merge", "strategy": "scd2"},
    )
    def models_resource():
        yield models

    pipeline = dlt.pipeline(
        pipeline_name="catalog_sync",
        pipelines_dir=os.path.join(workdir, "pipelines"),
        destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{workdir}/catalog.db"),
        dataset_name="catalog",
        progress=None,
    )
    pipeline.extract(models_resource())
    t2 = time.perf_counter()
    pipeline.normalize()
    t3 = time.perf_counter()
    info = pipeline.load()
    t4 = time.perf_counter()
    if info.has_failed_jobs:
        print(info, file=sys.stderr)
        sys.exit(1)

    print(
        f"dlt {'first_load' if a.fresh else 'next_load'} models={len(models)} "
        f"import_s={IMPORT_S:.3f} parse_s={t1 - t0:.3f} extract_s={t2 - t1:.3f} "
        f"normalize_s={t3 - t2:.3f} load_s={t4 - t3:.3f} dlt_s={t4 - t1:.3f} total_s={t4 - t0:.3f}"
    )
    if a.check:
        import sqlite3

        con = sqlite3.connect(os.path.join(workdir, "catalog__catalog.db"))
        active = dict(con.execute("SELECT name, base_cost FROM models WHERE _dlt_valid_to IS NULL"))
        total, retired = con.execute("SELECT count(*), count(_dlt_valid_to) FROM models").fetchone()
        ok = active == {m["name"]: float(m["base_cost"]) for m in models}
        print(
            f"check: {'OK' if ok else 'MISMATCH'}; models rows={total} retired={retired} active={len(active)}"
        )
        if not ok:
            sys.exit(1)
    if a.show:
        with pipeline.sql_client() as c:
            for (tbl,) in c.execute_sql(
                "SELECT name FROM catalog.sqlite_master WHERE type='table' ORDER BY name"
            ):
                n = c.execute_sql(f'SELECT count(*) FROM catalog."{tbl}"')[0][0]
                print(f"  {tbl}: {n}")


if __name__ == "__main__":
    main()
