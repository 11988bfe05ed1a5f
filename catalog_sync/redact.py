"""Secrets out of everything shown or stored: the API key, a database password,
a webhook URL.

The key is known (it is what was sent), so whatever a server answers is
scrubbed of it before it is printed, logged or stored; the command line adds a
last pass over its error line and every log record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

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
