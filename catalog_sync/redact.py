"""Secrets out of everything shown or stored: the API key, a database password,
a webhook URL.

The key is known (it is what was sent), so whatever a server answers is
scrubbed of it before it is printed, logged or stored; the command line adds a
last pass over its error line and every log record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog_sync.config import Config

REDACTED = "[redacted]"
# Shorter "secrets" would blot out ordinary text (and JSON) where they happen to occur.
MIN_SECRET_LENGTH = 6


def _usable(secrets: Iterable[str | None]) -> list[str]:
    found = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
    return sorted(found, key=len, reverse=True)  # a secret inside another goes second


def redact_text(text: str, *secrets: str | None) -> str:
    """`text` with every occurrence of each secret replaced by [redacted]."""
    for secret in _usable(secrets):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_bytes(data: bytes, *secrets: str | None) -> bytes:
    """`data` (a body as received) with each secret, in UTF-8, replaced by [redacted]."""
    for secret in _usable(secrets):
        raw = secret.encode("utf-8")
        if raw in data:
            data = data.replace(raw, REDACTED.encode())
    return data


class Redactor:
    """The secrets one process knows of; the CLI adds each one as it reads it."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        self._secrets.update(s for s in secrets if s)

    def __call__(self, text: str) -> str:
        return redact_text(text, *self._secrets) if self._secrets else text


class RedactingFilter(logging.Filter):
    """Scrubs every record a handler writes (message, arguments, traceback)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.redactor(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        return True


# --- the secrets a process may meet -------------------------------------------------


def env_secrets(environ: Mapping[str, str]) -> list[str]:
    """The secrets the environment holds: the API key, a database URL's password."""
    from catalog_sync.config import API_KEY_ENV, DATABASE_URL_ENV

    return [environ.get(API_KEY_ENV, "").strip(), *url_password(environ.get(DATABASE_URL_ENV))]


def config_secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    """The database URL's password, the webhook URL and the apprise URLs (each
    one and all together: they hold tokens) the configuration points at."""
    hook = environ.get(config.notify.webhook_url_env, "") if config.notify.webhook_url_env else ""
    chat = environ.get(config.notify.apprise_urls_env, "") if config.notify.apprise_urls_env else ""
    chat_urls = [url for url in re.split(r"[\s,]+", chat) if url]
    return [*url_password(config.database.url), hook.strip(), chat.strip(), *chat_urls]


def url_password(url: str | None) -> list[str]:
    """A URL's password, as written and decoded ([] when it has none)."""
    if not url:
        return []
    from urllib.parse import quote, unquote, urlsplit

    try:
        raw = urlsplit(url.strip()).password
    except ValueError:
        return []
    if not raw:
        return []
    return [raw, unquote(raw), quote(unquote(raw), safe="")]
