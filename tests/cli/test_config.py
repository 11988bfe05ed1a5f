"""Configuration: lookup order, defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog_sync.cli import cli
from catalog_sync.config import Config, load_config, require_api_key
from catalog_sync.errors import UsageError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_when_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, {})
    assert config == Config()
    assert config.api.base_url == "https://app.hoox.video"
    assert config.api.max_retries == 4
    assert config.database.url == "sqlite:///catalog.db"
    assert config.sync.max_removed_fraction == 0.5
    assert (config.schedule.cron, config.schedule.timezone) == ("0 * * * *", "UTC")


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "config.toml", '[database]\nurl = "sqlite:///local.db"\n')
    env_file = write(tmp_path / "env.toml", '[database]\nurl = "sqlite:///env.db"\n')
    flag_file = write(tmp_path / "flag.toml", '[database]\nurl = "sqlite:///flag.db"\n')
    assert load_config(None, {}).database.url == "sqlite:///local.db"
    env = {"CATALOG_SYNC_CONFIG": str(env_file)}
    assert load_config(None, env).database.url == "sqlite:///env.db"
    assert load_config(flag_file, env).database.url == "sqlite:///flag.db"
    env["CATALOG_SYNC_DATABASE_URL"] = "sqlite:///from-env.db"
    assert load_config(flag_file, env).database.url == "sqlite:///from-env.db"


def test_the_documented_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "config.toml"
    config = load_config(example, {})
    assert config.api.base_url == "https://app.hoox.video"
    assert config.api.timeout_seconds == 30
    assert config.api.max_response_mb == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[api]\ntimeout = 3\n", "unknown key api.timeout"),
        ("[apis]\n", "unknown section or key 'apis'"),
        ('[api]\nmax_retries = "4"\n', "api.max_retries must be an integer, got str '4'"),
        ("[api]\nmax_retries = 2.5\n", "api.max_retries must be an integer"),
        ("[api]\ntimeout_seconds = true\n", "api.timeout_seconds must be a number"),
        ("[api]\nmax_retries = -1\n", "api.max_retries must be 0 or more"),
        ("[sync]\nmax_removed_fraction = 2\n", "sync.max_removed_fraction must be between 0 and 1"),
        ("[schedule]\nrun_on_start = 1\n", "schedule.run_on_start must be true or false"),
        ("[database]\nurl = 5\n", "database.url must be a string"),
        ('api = "x"\n', "'api' must be a table"),
        ("[api\n", "is not valid TOML"),
        (
            '[api]\nbase_url = "http://app.hoox.video"\n',
            "must use https unless the host is loopback",
        ),
        ('[api]\nbase_url = "ftp://x"\n', "must be an http(s) URL"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path, {})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9"])
def test_plain_http_is_fine_on_loopback(tmp_path: Path, url: str) -> None:
    path = write(tmp_path / "c.toml", f'[api]\nbase_url = "{url}"\n')
    assert load_config(path, {}).api.base_url == url


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml", {})
    with pytest.raises(UsageError, match="CATALOG_SYNC_CONFIG"):
        load_config(None, {"CATALOG_SYNC_CONFIG": str(tmp_path / "nope.toml")})


def test_api_key_only_from_the_environment() -> None:
    assert require_api_key({"HOOX_API_KEY": " k "}) == "k"
    with pytest.raises(UsageError, match="HOOX_API_KEY is not set"):
        require_api_key({})


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[api]\nbogus = 1\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "sync"], env={"HOOX_API_KEY": "k"})
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: unknown key api.bogus\n"


def test_unknown_option_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sync", "--nope"])
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_postgres_url_password_is_masked_in_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[database]\nurl = "postgresql+psycopg://u:s3cret@127.0.0.1:1/x"\n',
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "db", "current"])
    assert result.exit_code == 1
    assert "s3cret" not in result.output
    assert result.stderr.startswith("error: ")


def test_postgres_url_without_the_driver_is_exit_2(tmp_path: Path) -> None:
    """As on a machine where the [postgres] extra is not installed."""
    import subprocess
    import sys

    path = write(tmp_path / "c.toml", '[database]\nurl = "postgresql://u@127.0.0.1/x"\n')
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg2'] = None\n"
        "from catalog_sync.cli import main\n"
        "sys.argv[1:] = ['--config', sys.argv[1], 'db', 'current']\n"
        "main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "error: no database driver for postgresql+psycopg://u@127.0.0.1/x"
    )
    assert "pip install 'catalog-sync[postgres]'" in result.stderr


def test_the_alert_rules_of_docs_alerts_md_load(tmp_path: Path) -> None:
    """Every TOML example of docs/alerts.md is a valid configuration."""
    import re

    docs = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
    blocks = re.findall(r"```toml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 4
    notify = '[notify]\nwebhook_url_env = "W"\napprise_urls_env = "A"\n'
    for index, block in enumerate(blocks):
        text = block if "[notify]" in block else notify + block
        config = load_config(write(tmp_path / f"alerts-{index}.toml", text), {})
        assert len(config.alerts) == 1
