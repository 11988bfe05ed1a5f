"""The instruments of benchmarks/run.py: a whole process's wall time and peak
RSS, the samples they make, the byte-compiled package, the PostgreSQL scratch
databases, the dlt interpreter and what machine this is."""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "hx_live_" + "0" * 64  # the fake API's key in every benchmark
# The mandated stack's imports as every sync pays them: httpx imports its own
# command-line client (rich, pygments) when click is installed, which
# catalog-sync skips (catalog_sync/_runtime.py), and so does this floor.
STACK_IMPORTS = (
    "import sys, types; sys.modules['httpx._main'] = types.ModuleType('httpx._main');"
    " import sqlalchemy.orm, httpx"
)
DLT_HOWTO = 'python3 -m venv /tmp/dltvenv && /tmp/dltvenv/bin/pip install "dlt[sqlalchemy]"'


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, wall: float, rss_kb: int) -> None:
        self.wall.append(wall)
        self.rss_mb.append(rss_kb / 1024)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def rss(self) -> float:
        return statistics.median(self.rss_mb)

    def spread(self) -> str:
        return f"{min(self.wall):.2f}-{max(self.wall):.2f}"


def measure(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, int, str]:
    """Wall time and peak RSS (KiB) of one whole process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"FAILED ({proc.returncode}): {' '.join(cmd)}\n{output}")
    return wall, usage.ru_maxrss, output


def compile_package(python: str) -> None:
    """Byte-compile the package, as installing a wheel does: a run from a
    checkout (or with PYTHONDONTWRITEBYTECODE set) would otherwise compile
    every module of ours again in every measured process."""
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "catalog_sync")], check=True)


class PgScratch:
    """Scratch databases on a PostgreSQL server, dropped when the run ends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.made: set[str] = set()

    @classmethod
    def connect(cls, url: str) -> PgScratch | None:
        if not url:
            print("postgresql: skipped (--pg '')", flush=True)
            return None
        try:
            import psycopg

            with psycopg.connect(url, autocommit=True, connect_timeout=3):
                pass
        except Exception as exc:  # no driver, no server: the SQLite cases still run
            print(f"postgresql: skipped, {url} does not answer ({exc})", flush=True)
            return None
        print(f"postgresql: {url}", flush=True)
        return cls(url)

    def fresh(self, name: str) -> str:
        """A new, empty database `catalog_bench_<name>`, and its libpq URL."""
        import psycopg

        database = f"catalog_bench_{name}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{database}"')
        self.made.add(database)
        return self.url.rsplit("/", 1)[0] + "/" + database

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            for database in self.made:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            with contextlib.suppress(psycopg.Error):  # needs pg_checkpoint (or a superuser)
                connection.execute("CHECKPOINT")
        self.made.clear()


def find_dlt(python: str, bench_dir: Path) -> str | None:
    """The interpreter to run peer_dlt.py with, or None (saying how to get one)."""
    if not (bench_dir / "peer_dlt.py").exists():
        print(f"dlt: skipped, no peer_dlt.py in {bench_dir}", flush=True)
        return None
    has_dlt = "import importlib.util, sys; sys.exit(importlib.util.find_spec('dlt') is None)"
    if Path(python).exists():
        probe = subprocess.run([python, "-c", has_dlt], check=False, capture_output=True)
        if probe.returncode == 0:
            print(f"dlt: {python}", flush=True)
            return python
    print(
        f"dlt: skipped, no dlt at {python}. To measure it: {DLT_HOWTO} (or --dlt-python PYTHON)",
        flush=True,
    )
    return None


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
