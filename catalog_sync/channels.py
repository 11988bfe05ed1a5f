"""Where a run's digest goes: the webhook and apprise URLs the [notify] section
names, read from the environment (they hold tokens: never from the file) and
checked before any request is made."""

from __future__ import annotations

from collections.abc import Mapping

from catalog_sync.config import Config, check_base_url
from catalog_sync.errors import UsageError


def webhook_url(config: Config, environ: Mapping[str, str]) -> str | None:
    """The webhook URL from the env var that notify.webhook_url_env names, if any."""
    name = config.notify.webhook_url_env
    if not name:
        return None
    url = environ.get(name, "").strip()
    if not url:
        raise UsageError(f"notify.webhook_url_env names {name}, but {name} is not set")
    check_base_url(url, origin=f"the webhook URL in {name}", secret=True)
    return url


def apprise_urls(config: Config, environ: Mapping[str, str]) -> str | None:
    """The apprise URLs (comma- or space-separated) from the env var that
    notify.apprise_urls_env names, if any, each one checked by apprise itself:
    a URL it does not understand is a UsageError naming the env var (never the
    URL: they hold tokens). Needs the [notify] extra; apprise is imported only
    when the key is set."""
    name = config.notify.apprise_urls_env
    if not name:
        return None
    import importlib.util

    if importlib.util.find_spec("apprise") is None:
        raise UsageError(
            "notify.apprise_urls_env needs the [notify] extra: pip install 'catalog-sync[notify]'"
        )
    urls = environ.get(name, "").strip()
    if not urls:
        raise UsageError(f"notify.apprise_urls_env names {name}, but {name} is not set")
    import logging

    import apprise

    # apprise logs the URL it rejects: never shown (the error below names the variable).
    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL + 1)
    try:
        understood = apprise.Apprise().add(urls)
    finally:
        quiet.setLevel(level)
    if not understood:
        raise UsageError(
            f"{name} (notify.apprise_urls_env) holds a URL that apprise does not understand:"
            " check each URL's scheme and tokens against apprise's list of services"
        )
    return urls
