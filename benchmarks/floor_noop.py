#!/usr/bin/env python3
"""The least an unchanged re-sync can cost with the mandated stack, as a whole
process: import SQLAlchemy's ORM and httpx (what every `catalog-sync sync`
pays), GET the whole catalog (the API documents no ETag or conditional
request, so an unchanged catalog is still sent in full), hash it, and compare
the hash with the one kept from the last run (stdlib sqlite3, one row).

    python floor_noop.py URL API_KEY --db FILE

benchmarks/run.py measures it beside `catalog-sync sync` on an unchanged
catalog: no implementation on this stack can do a no-op in less.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import types

# httpx imports its own command-line client (rich, pygments) when click is
# installed; catalog-sync skips it the same way (catalog_sync/_runtime.py).
sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))

import httpx  # noqa: E402
import sqlalchemy.orm  # noqa: E402, F401  # the stack's import, which every sync pays


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("api_key")
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    with httpx.Client() as client:
        response = client.get(args.url, headers={"Authorization": f"Bearer {args.api_key}"})
        response.raise_for_status()
        sha = hashlib.sha256(response.content).hexdigest()
    with sqlite3.connect(args.db) as db:
        db.execute("CREATE TABLE IF NOT EXISTS last_payload (sha256 TEXT NOT NULL)")
        row = db.execute("SELECT sha256 FROM last_payload").fetchone()
        if row is None or row[0] != sha:
            db.execute("DELETE FROM last_payload")
            db.execute("INSERT INTO last_payload VALUES (?)", (sha,))
    print("unchanged" if row is not None and row[0] == sha else "changed")


if __name__ == "__main__":
    main()
