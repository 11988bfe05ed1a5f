"""Logging: human-readable by default, JSON lines for log shippers; every line
written during a run carries that run's id."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator

from catalog_sync.redact import RedactingFilter, Redactor
from catalog_sync.shown import visible

current_run_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_run_id", default=None
)


@contextlib.contextmanager
def run_context(run_id: int) -> Iterator[None]:
    """Tag every log line in this block with `run_id`."""
    token = current_run_id.set(run_id)
    try:
        yield
    finally:
        current_run_id.reset(token)


class _RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = current_run_id.get()
        return True


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        run_id = getattr(record, "run_id", None)
        record.run = f" [run {run_id}]" if run_id is not None else ""
        return visible(super().format(record))  # a terminal's: no control from the API


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", None),
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exc"] = record.exc_text
        elif record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(*, level: int, fmt: str = "text", redactor: Redactor | None = None) -> None:
    """Log to stderr; with a redactor, no record shows a secret it knows."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RunIdFilter())
    if redactor is not None:
        handler.addFilter(RedactingFilter(redactor))
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            _TextFormatter("%(asctime)s %(levelname)s%(run)s %(name)s: %(message)s")
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet = logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    for noisy in ("httpx", "httpcore", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(quiet)
    # stamina's own "stamina.retry_scheduled" warning repeats the client's line
    # (which also says which header set the wait): only with --debug.
    logging.getLogger("stamina").setLevel(quiet if quiet == logging.DEBUG else logging.ERROR)
