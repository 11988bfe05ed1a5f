"""Change notifications: the digest (core.digest) POSTed to a webhook after a run
that added, removed, restored or re-priced models, and the outcome recorded.
Never fails a sync."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import stamina
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog_sync import __version__
from catalog_sync.clock import Clock
from catalog_sync.core.diff import ChangeSet
from catalog_sync.core.digest import build_digest
from catalog_sync.errors import first_line
from catalog_sync.storage import runs

log = logging.getLogger(__name__)


class NotifyError(Exception):
    """The webhook could not be reached or refused the digest."""


def post_digest(
    url: str,
    digest: dict[str, Any],
    *,
    timeout: float,
    attempts: int,
    backoff: float = 0.5,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """POST the digest; retry briefly on 5xx and network errors; raise NotifyError."""

    def retriable(exc: Exception) -> bool:
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code >= 500 or exc.response.status_code == 429
        return isinstance(exc, httpx.TransportError)

    headers = {"User-Agent": f"catalog-sync/{__version__}"}
    try:
        with httpx.Client(timeout=timeout, headers=headers, transport=transport) as client:
            for attempt in stamina.retry_context(
                on=retriable,
                attempts=attempts,
                timeout=None,
                wait_initial=backoff,
                wait_max=backoff * 4,
                wait_jitter=backoff,
            ):
                with attempt:
                    client.post(url, json=digest).raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise NotifyError(f"webhook answered HTTP {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise NotifyError(f"webhook unreachable: {type(exc).__name__}") from exc


def digest_sender(
    webhook: str | None,
    chat: str | None,
    *,
    timeout: float,
    attempts: int,
) -> Callable[[dict[str, Any]], None] | None:
    """One callable sending a digest to the webhook (JSON) and the chat
    channels (Markdown, apprise), or None when neither is configured. Both are
    tried; a failure of either is a NotifyError naming what failed."""
    if webhook is None and chat is None:
        return None

    def send(digest: dict[str, Any]) -> None:
        errors: list[str] = []
        if webhook is not None:
            try:
                post_digest(webhook, digest, timeout=timeout, attempts=attempts)
            except NotifyError as exc:
                errors.append(str(exc))
        if chat is not None:
            try:
                send_chat(chat, digest, timeout=timeout)
            except NotifyError as exc:
                errors.append(str(exc))
        if errors:
            raise NotifyError("; ".join(errors))

    return send


def send_chat(urls: str, digest: dict[str, Any], *, timeout: float) -> None:
    """The digest as Markdown to every apprise URL in `urls`; NotifyError if any fails."""
    raise NotImplementedError  # the chat helper fills this in


def notify_run(
    engine: Engine,
    changes: ChangeSet,
    *,
    run_id: int,
    observed_at: dt.datetime,
    send: Callable[[dict[str, Any]], None],
    clock: Clock,
    points: Sequence[dict[str, Any]] = (),
) -> None:
    """Send the run's digest, if it has one, and record the outcome in its row.

    Never raises: a notification that fails is logged and kept in
    `sync_runs.notify_error`; the sync it reports on has succeeded already."""
    digest = build_digest(
        changes, run_id=run_id, observed_at=observed_at.isoformat(), points=points
    )
    if digest is None:
        return
    error: str | None = None
    try:
        send(digest)
        log.info("run %d: change digest sent", run_id)
    except NotifyError as exc:
        error = str(exc)
        log.warning("run %d: change digest not delivered: %s", run_id, exc)
    try:
        with Session(engine) as session, session.begin():
            runs.record_notification(
                session, run_id, notified_at=clock() if error is None else None, error=error
            )
    except SQLAlchemyError as exc:
        log.error("could not record the notification of run %d: %s", run_id, first_line(exc))
