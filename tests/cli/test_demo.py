"""The newcomer's first command in an empty directory: in-process, and (slow) as
the real process, twice."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def test_demo_runs_end_to_end_without_a_key_or_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from catalog_sync.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOX_API_KEY", raising=False)
    monkeypatch.delenv("CATALOG_SYNC_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["demo"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    check_demo(tmp_path, result.stdout)


@pytest.mark.slow
def test_the_demo_process_runs_twice_in_the_same_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HOOX_API_KEY", "CATALOG_SYNC_CONFIG")}
    for _ in range(2):  # the demo recreates its own file each time
        result = subprocess.run(
            [sys.executable, "-m", "catalog_sync", "demo"],
            cwd=tmp_path,
            env={**env, "COLUMNS": "120"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    check_demo(tmp_path, result.stdout)


def check_demo(tmp_path: Path, out: str) -> None:
    assert "catalog-1.json: sync ok (run 1): 22 models seen, 22 added" in out
    assert "Price changes" in out
    for name in ("veo-3.1-lite", "seedance-2.0", "veo-3.1", "kling-pro", "z-image-turbo"):
        assert name in out
    with sqlite3.connect(tmp_path / "catalog-demo.db") as connection:
        runs = connection.execute("SELECT status, trigger FROM sync_runs").fetchall()
        kinds = connection.execute(
            "SELECT kind, count(*) FROM catalog_changes GROUP BY kind ORDER BY kind"
        ).fetchall()
        price = connection.execute(
            "SELECT count(*) FROM catalog_changes WHERE field = 'base_cost'"
        ).fetchone()
        observed = [r for (r,) in connection.execute("SELECT observed_at FROM sync_runs")]
        points = connection.execute("SELECT count(*) FROM price_point_changes").fetchone()
        only_points = connection.execute(
            "SELECT count(*) FROM price_point_changes WHERE sync_run_id = 4"
        ).fetchone()
    assert runs == [("success", "demo")] * 4
    assert kinds == [("added", 23), ("removed", 1), ("updated", 9)]  # 1 of them input_schema
    assert price == (6,)
    assert len({o[:10] for o in observed}) == 4  # four days across a month, not one second
    assert points[0] > 0 and only_points[0] > 0  # the last run: re-priced points only
    assert "Price point changes" in out
    assert "8s 1080p" in out and '{"duration"' not in out  # points labelled for people
    report = tmp_path / "catalog-demo.html"
    assert f"{report}" in " ".join(out.split()) and report.stat().st_size > 0
    # Where its feed and Datasette files are, and how to serve them.
    feed = tmp_path / "catalog-demo.atom"
    assert f"{feed}" in " ".join(out.split()) and feed.stat().st_size > 0
    assert (tmp_path / "catalog-demo-datasette" / "metadata.yaml").is_file()
    assert (tmp_path / "catalog-demo-datasette" / "datasette.yaml").is_file()
    assert "catalog-demo-datasette/" in out
    assert "CATALOG_SYNC_DATABASE_URL=sqlite:///catalog-demo.db catalog-sync serve" in out
    assert "pip install 'catalog-sync[serve]'" in out
    # The line that starts the MCP server for an assistant (an absolute path:
    # a client starts it from its own directory).
    database = tmp_path / "catalog-demo.db"
    assert f"CATALOG_SYNC_DATABASE_URL=sqlite:///{database} catalog-sync mcp" in out
