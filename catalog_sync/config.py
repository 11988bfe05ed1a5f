"""Settings as frozen dataclasses, loaded from TOML; every error names its key.

Lookup order: an explicit path (``--config``), else env ``CATALOG_SYNC_CONFIG``,
else ``./config.toml`` if present, else built-in defaults. Env
``CATALOG_SYNC_DATABASE_URL`` overrides ``database.url``. The API key is read
from env ``HOOX_API_KEY`` only, and only by the commands that call the API.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from catalog_sync.alert_rules import AlertRule, check_channels_configured, parse_alert_rules
from catalog_sync.errors import UsageError

CONFIG_ENV = "CATALOG_SYNC_CONFIG"
DATABASE_URL_ENV = "CATALOG_SYNC_DATABASE_URL"
API_KEY_ENV = "HOOX_API_KEY"


@dataclass(frozen=True)
class ApiConfig:
    base_url: str = "https://app.hoox.video"
    timeout_seconds: float = 30.0
    max_retries: int = 4
    max_response_mb: float = 64.0
    backoff_seconds: float = 1.0
    retry_after_max_seconds: float = 120.0
    max_requests_per_minute: int = 60  # all of one run's requests together (Hoox allows 100)
    max_concurrent_requests: int = 4  # details and quotes in flight at once


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///catalog.db"


@dataclass(frozen=True)
class SyncConfig:
    max_removed_fraction: float = 0.5
    removal_grace_runs: int = 1


@dataclass(frozen=True)
class DetailsConfig:
    enabled: bool = False
    refresh_hours: float = 24.0  # 0: every run


@dataclass(frozen=True)
class PricingConfig:
    enabled: bool = False  # needs details.enabled
    refresh_hours: float = 24.0  # 0: every run
    max_points_per_model: int = 64
    max_quotes_per_run: int = 300


@dataclass(frozen=True)
class ScheduleConfig:
    cron: str = "0 * * * *"
    timezone: str = "UTC"
    run_on_start: bool = False
    jitter_seconds: float = 0.0


@dataclass(frozen=True)
class NotifyConfig:
    webhook_url_env: str = ""
    apprise_urls_env: str = ""  # an env var holding apprise URLs (extra [notify])
    timeout_seconds: float = 10.0
    max_attempts: int = 3


@dataclass(frozen=True)
class FeedConfig:
    path: str = ""  # an Atom file rewritten after every successful run; "" = none


@dataclass(frozen=True)
class MetricsConfig:
    textfile: str = ""  # a Prometheus textfile rewritten after every run; "" = none


@dataclass(frozen=True)
class CostConfig:
    currency: str = ""  # the default --currency of `cost` (in credit_rates); "" = credits


@dataclass(frozen=True)
class Config:
    api: ApiConfig = field(default_factory=ApiConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    details: DetailsConfig = field(default_factory=DetailsConfig)
    pricing: PricingConfig = field(default_factory=PricingConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    alerts: tuple[AlertRule, ...] = ()  # [[alerts]]
    source: str = "built-in defaults"


_SECTIONS: dict[str, type[Any]] = {
    "api": ApiConfig,
    "database": DatabaseConfig,
    "sync": SyncConfig,
    "details": DetailsConfig,
    "pricing": PricingConfig,
    "schedule": ScheduleConfig,
    "notify": NotifyConfig,
    "feed": FeedConfig,
    "metrics": MetricsConfig,
    "cost": CostConfig,
}


def load_config(path: str | Path | None, environ: Mapping[str, str]) -> Config:
    """Find, read and validate the configuration; raise UsageError naming the bad key."""
    chosen = _choose_file(path, environ)
    config = Config() if chosen is None else _parse_file(chosen)
    env_url = environ.get(DATABASE_URL_ENV, "").strip()
    if env_url:
        config = replace(config, database=DatabaseConfig(url=env_url))
    return config


def require_api_key(environ: Mapping[str, str]) -> str:
    """The API key from env HOOX_API_KEY; a usage error when it is missing."""
    key = environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise UsageError(f"{API_KEY_ENV} is not set; export your Hoox API key in it")
    return key


def _choose_file(path: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    if path is not None:
        return _existing(Path(path), "--config")
    if environ.get(CONFIG_ENV):
        return _existing(Path(environ[CONFIG_ENV]), CONFIG_ENV)
    local = Path("config.toml")
    return local if local.is_file() else None


def _existing(path: Path, origin: str) -> Path:
    if not path.is_file():
        raise UsageError(f"config file {str(path)!r} (from {origin}) does not exist")
    return path


def _parse_file(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {str(path)!r}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name == "alerts":
            sections[name] = parse_alert_rules(path, value)
            continue
        if name not in _SECTIONS:
            raise UsageError(f"{path}: unknown section or key {name!r}")
        if not isinstance(value, dict):
            raise UsageError(f"{path}: {name!r} must be a table ([{name}])")
        sections[name] = _parse_section(path, name, _SECTIONS[name], value)
    config = Config(source=str(path), **sections)
    _check_values(path, config)
    return config


def _parse_section(path: Path, section: str, cls: type[Any], values: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise UsageError(f"{path}: unknown key {section}.{key}")
        expected = type(getattr(cls(), key))
        kwargs[key] = _coerce(path, f"{section}.{key}", value, expected)
    return cls(**kwargs)


def _coerce(path: Path, key: str, value: Any, expected: type[Any]) -> Any:
    if expected is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected in (str, bool) and isinstance(value, expected):
        return value
    raise UsageError(
        f"{path}: {key} must be {_TYPE_NAMES[expected]}, got {type(value).__name__} {value!r}"
    )


_TYPE_NAMES = {float: "a number", int: "an integer", str: "a string", bool: "true or false"}


def _check_values(path: Path, config: Config) -> None:
    api = config.api
    checks = [
        ("api.timeout_seconds", api.timeout_seconds > 0, "must be greater than 0"),
        ("api.max_retries", api.max_retries >= 0, "must be 0 or more"),
        ("api.max_response_mb", api.max_response_mb > 0, "must be greater than 0"),
        ("api.backoff_seconds", api.backoff_seconds >= 0, "must be 0 or more"),
        ("api.retry_after_max_seconds", api.retry_after_max_seconds >= 0, "must be 0 or more"),
        (
            "sync.max_removed_fraction",
            0 <= config.sync.max_removed_fraction <= 1,
            "must be between 0 and 1",
        ),
        ("sync.removal_grace_runs", config.sync.removal_grace_runs >= 1, "must be 1 or more"),
        ("api.max_requests_per_minute", api.max_requests_per_minute >= 1, "must be 1 or more"),
        ("api.max_concurrent_requests", api.max_concurrent_requests >= 1, "must be 1 or more"),
        ("details.refresh_hours", config.details.refresh_hours >= 0, "must be 0 or more"),
        ("pricing.refresh_hours", config.pricing.refresh_hours >= 0, "must be 0 or more"),
        (
            "pricing.max_points_per_model",
            config.pricing.max_points_per_model >= 1,
            "must be 1 or more",
        ),
        ("pricing.max_quotes_per_run", config.pricing.max_quotes_per_run >= 1, "must be 1 or more"),
        (
            "pricing.enabled",
            not config.pricing.enabled or config.details.enabled,
            "needs details.enabled = true (a model's price points come from its details)",
        ),
        ("database.url", bool(config.database.url.strip()), "must not be empty"),
        ("schedule.jitter_seconds", config.schedule.jitter_seconds >= 0, "must be 0 or more"),
        ("notify.timeout_seconds", config.notify.timeout_seconds > 0, "must be greater than 0"),
        ("notify.max_attempts", config.notify.max_attempts >= 1, "must be 1 or more"),
        (
            "cost.currency",
            config.cost.currency == "" or re.fullmatch(r"[A-Za-z]{3}", config.cost.currency),
            "must be a three-letter currency code (e.g. EUR) or empty",
        ),
    ]
    for key, ok, why in checks:
        if not ok:
            raise UsageError(f"{path}: {key} {why}")
    check_base_url(api.base_url, origin=f"{path}: api.base_url")
    check_channels_configured(path, config.alerts, config.notify)


def check_base_url(url: str, *, origin: str = "api.base_url", secret: bool = False) -> None:
    """https is required unless the host is a loopback address."""
    parts = urlsplit(url)
    shown = "" if secret else f", got {url!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{origin} must be an http(s) URL with a host{shown}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(f"{origin} must use https unless the host is loopback{shown}")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
