#!/usr/bin/env python3
"""catalog-sync benchmarks: the real `catalog-sync sync` process against the
floors (stdlib sqlite3; psycopg COPY on PostgreSQL) and dlt, at 1k/10k/100k
models, plus start-up and history growth, side by side in one run. Prints a
table with every target marked met or not.

    .venv/bin/python benchmarks/run.py                      # everything, 3 repeats
    .venv/bin/python benchmarks/run.py --sizes 1000 --repeats 1 --skip-history
    .venv/bin/python benchmarks/run.py --write docs/performance.md
    .venv/bin/python benchmarks/run.py --pg ''              # without PostgreSQL

The catalog generator and the floors (gen_catalog.py, floor_sqlite.py,
floor_pg.py, floor_noop.py) sit beside this script, with its instruments
(measuring.py), its report (report.py) and the history-growth case
(history_growth.py). The PostgreSQL case runs when --pg (a
libpq URL of a server whose user may create databases; default the test
server on 127.0.0.1) answers: it makes two scratch databases there and drops
them at the end. dlt (peer_dlt.py) is measured when --dlt-python (default
/tmp/dltvenv/bin/python) has it, and skipped otherwise; to measure it:
    python3 -m venv /tmp/dltvenv && /tmp/dltvenv/bin/pip install "dlt[sqlalchemy]"
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent  # gen_catalog.py, floor_sqlite.py, peer_dlt.py
sys.path.insert(0, str(ROOT))

from history_growth import history_growth  # noqa: E402  # beside this script
from measuring import (  # noqa: E402
    KEY,
    STACK_IMPORTS,
    PgScratch,
    Sample,
    compile_package,
    find_dlt,
    measure,
)
from report import report, write_doc  # noqa: E402

from catalog_sync.fakehoox import FakeHooxApi  # noqa: E402
from catalog_sync.hoox.retrying import MODELS_PATH  # noqa: E402


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.bench_dir: Path = args.bench_dir
        self.work = Path(args.work or tempfile.mkdtemp(prefix="catalog-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.python = sys.executable
        script = Path(sys.executable).parent / "catalog-sync"
        self.cli = [str(script)] if script.exists() else [self.python, "-m", "catalog_sync"]
        self.results: dict[tuple[int, str], Sample] = {}
        self.requests: dict[str, int] = {}  # per priced case: requests of its last run
        self.api = FakeHooxApi(api_key=KEY).start()
        self.dlt = find_dlt(args.dlt_python, self.bench_dir)
        self.pg = PgScratch.connect(args.pg)

    def sample(self, n: int, case: str) -> Sample:
        return self.results.setdefault((n, case), Sample())

    def catalogs(self, n: int) -> tuple[Path, Path]:
        d1, d2 = self.work / f"day1_{n}.json", self.work / f"day2_{n}.json"
        gen = self.bench_dir / "gen_catalog.py"
        if not d1.exists():
            subprocess.run(
                [self.python, gen, str(n), "--seed", str(self.args.seed), "--out", d1],
                check=True,
                capture_output=True,
            )
        if not d2.exists():
            subprocess.run(
                [
                    self.python,
                    gen,
                    str(n),
                    "--seed",
                    str(self.args.seed),
                    "--mutate",
                    str(self.args.mutate),
                    "--out",
                    d2,
                ],
                check=True,
                capture_output=True,
            )
        return d1, d2

    def sync(self, db: Path, config: Path) -> tuple[float, int]:
        wall, rss, out = measure(
            [*self.cli, "--config", str(config), "sync"], env={"HOOX_API_KEY": KEY}
        )
        assert "sync ok" in out, out
        return wall, rss

    def noop_floor(self) -> tuple[float, int]:
        """floor_noop.py on the catalog being served: twice, the second measured
        (the first stores the hash it compares with)."""
        script = str(self.bench_dir / "floor_noop.py")
        url = self.api.base_url + MODELS_PATH
        cmd = [self.python, script, url, KEY, "--db", str(self.work / "noop_floor.db")]
        measure(cmd)
        wall, rss, out = measure(cmd)
        assert "unchanged" in out, out
        return wall, rss

    def config(self, db: Path | str, *, priced: bool = False) -> Path:
        """A config for `db`: a SQLite file, or a SQLAlchemy URL."""
        path = self.work / "config.toml"
        api = f'[api]\nbase_url = "{self.api.base_url}"\n'
        extra = ""
        if priced:  # the loopback fake needs no request budget
            api += "max_requests_per_minute = 100000\n"
            extra = "[details]\nenabled = true\n[pricing]\nenabled = true\n"
        url = db if isinstance(db, str) else f"sqlite:///{db}"
        path.write_text(f'{api}[database]\nurl = "{url}"\n{extra}')
        return path

    def run_pg(self, n: int, day1: bytes, day2: bytes, d1: Path, d2: Path) -> None:
        """The same three syncs into PostgreSQL, and its COPY floor."""
        assert self.pg is not None
        ours, floor = self.pg.fresh("ours"), self.pg.fresh("floor")
        config = self.config(ours.replace("postgresql://", "postgresql+psycopg://"))
        self.api.set_body(day1)
        self.sample(n, "pg_first").add(*self.sync(Path(), config))
        self.api.set_body(day2)
        self.sample(n, "pg_resync").add(*self.sync(Path(), config))
        self.sample(n, "pg_noop").add(*self.sync(Path(), config))
        script = str(self.bench_dir / "floor_pg.py")
        wall, rss, _ = measure([self.python, script, str(d1), "--db", floor])
        self.sample(n, "pg_floor_first").add(wall, rss)
        wall, rss, _ = measure([self.python, script, str(d2), "--db", floor, "--resync"])
        self.sample(n, "pg_floor_resync").add(wall, rss)
        self.pg.drop_all()  # and its checkpoint: no background work left for the next case

    def run_size(self, n: int) -> None:
        d1, d2 = self.catalogs(n)
        day1, day2 = d1.read_bytes(), d2.read_bytes()
        for rep in range(1, self.args.repeats + 1):
            db = self.work / f"ours_{n}.db"
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            config = self.config(db)
            self.api.set_body(day1)
            self.sample(n, "ours_first").add(*self.sync(db, config))
            self.api.set_body(day2)
            self.sample(n, "ours_resync").add(*self.sync(db, config))
            self.sample(n, "ours_noop").add(*self.sync(db, config))
            self.sample(n, "noop_floor").add(*self.noop_floor())
            floor_db = self.work / f"floor_{n}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{floor_db}{suffix}").unlink(missing_ok=True)
            floor = self.bench_dir / "floor_sqlite.py"
            wall, rss, _ = measure([self.python, str(floor), str(d1), "--db", str(floor_db)])
            self.sample(n, "floor_first").add(wall, rss)
            wall, rss, _ = measure(
                [self.python, str(floor), str(d2), "--db", str(floor_db), "--resync"]
            )
            self.sample(n, "floor_resync").add(wall, rss)
            if self.pg is not None:
                self.run_pg(n, day1, day2, d1, d2)
            if self.dlt:
                peer = self.bench_dir / "peer_dlt.py"
                workdir = self.work / f"dlt_{n}"
                env = {"RUNTIME__DLTHUB_TELEMETRY": "false", "LOAD__WORKERS": "1"}
                wall, rss, _ = measure(
                    [self.dlt, str(peer), str(d1), "--workdir", str(workdir), "--fresh"], env=env
                )
                self.sample(n, "dlt_first").add(wall, rss)
                wall, rss, _ = measure(
                    [self.dlt, str(peer), str(d2), "--workdir", str(workdir)], env=env
                )
                self.sample(n, "dlt_second").add(wall, rss)
            print(
                f"  n={n} rep={rep}: "
                + ", ".join(
                    f"{case}={s.wall[-1]:.2f}s" for (m, case), s in self.results.items() if m == n
                ),
                flush=True,
            )

    def run_small(self) -> None:
        """The real 22-model catalog, and start-up."""
        samples = ROOT / "catalog_sync" / "samples" / "catalog-1.json"
        document = json.loads(samples.read_text())
        changed = json.loads(json.dumps(document))
        changed["models"][0]["base_cost"] += 1
        db = self.work / "small.db"
        for _ in range(max(5, self.args.repeats)):
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            config = self.config(db)
            self.api.set_catalog(document)
            self.sample(22, "small_fresh_db").add(*self.sync(db, config))
            for body in (changed, document):  # each run applies a price change
                self.api.set_catalog(body)
                self.sample(22, "small_sync").add(*self.sync(db, config))
            self.run_priced(document)
            wall, rss, _ = measure([*self.cli, "--help"])
            self.sample(0, "help").add(wall, rss)
            # How fast this machine is right now: the interpreter, and the stack's imports.
            wall, rss, _ = measure([self.python, "-c", "pass"])
            self.sample(0, "python").add(wall, rss)
            wall, rss, _ = measure([self.python, "-c", STACK_IMPORTS])
            self.sample(0, "imports").add(wall, rss)

    def run_priced(self, document: dict[str, Any]) -> None:
        """The 22-model catalog with details and pricing on: a first run (Get
        Model for every model, every point quoted) and an unchanged one."""
        db = self.work / "priced.db"
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        config = self.config(db, priced=True)
        self.api.set_catalog(document)
        for case in ("priced_first", "priced_unchanged"):
            before = self.api.request_count
            self.sample(22, case).add(*self.sync(db, config))
            self.requests[case] = self.api.request_count - before


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--mutate", type=float, default=0.1)
    parser.add_argument("--bench-dir", type=Path, default=BENCH)
    parser.add_argument("--dlt-python", default="/tmp/dltvenv/bin/python")
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server for its case ('' to skip)",
    )
    parser.add_argument("--work", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--history-runs", type=int, default=5000)
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--write", type=Path, help="also write the report into this markdown file")
    args = parser.parse_args()
    if not (args.bench_dir / "gen_catalog.py").exists():
        raise SystemExit(f"no gen_catalog.py in {args.bench_dir}; pass --bench-dir")
    compile_package(sys.executable)
    bench = Bench(args)
    print(f"scratch: {bench.work}", flush=True)
    try:
        for n in args.sizes:
            bench.run_size(n)
        bench.run_small()
        history = None if args.skip_history else history_growth(bench)
    finally:
        bench.api.stop()
        if bench.pg is not None:
            bench.pg.drop_all()
    text = report(bench, history)
    print(text)
    if args.write:
        write_doc(args.write, text)
    if not args.work:
        shutil.rmtree(bench.work, ignore_errors=True)


if __name__ == "__main__":
    main()
