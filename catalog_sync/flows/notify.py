"""Change notifications: the digest (core.digest) POSTed to a webhook as JSON
and sent to chat channels as Markdown (apprise, extra [notify]) after a run
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
from catalog_sync.core.digest import build_digest, digest_markdown
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
    """The digest as Markdown (core.digest.digest_markdown) to every apprise URL
    in `urls`; NotifyError if any fails (see `send_markdown`)."""
    title, body = digest_markdown(digest)
    send_markdown(urls, title, body, timeout=timeout)


def send_markdown(urls: str, title: str, body: str, *, timeout: float) -> None:
    """A Markdown message to every apprise URL in `urls` (comma- or
    space-separated), all at once; NotifyError if any fails.

    `timeout` bounds each service's connect and its read (apprise's `cto` and
    `rto`, unless a URL sets its own), and twice that the whole call. No error
    message or log line of ours holds a URL (they hold tokens): a failure names
    the services ("Slack", "JSON"); apprise's own log, which may quote them,
    is kept silent."""
    import apprise

    _quiet_apprise()
    sender = apprise.Apprise()
    complete = sender.add(urls)  # config.apprise_urls checked them: all are understood
    total = len(sender)
    for service in sender:
        _bound(service, timeout)
    extra: dict[str, Any] = {"timeout": 2 * timeout} if _takes_call_timeout(sender) else {}
    try:
        outcome = sender.notify(
            body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN, **extra
        )
    except Exception as exc:  # a plugin's bug must not fail the sync
        log.debug("apprise raised", exc_info=True)
        raise NotifyError(
            f"chat notification failed: apprise raised {type(exc).__name__}"
        ) from None
    if complete and outcome:
        return
    rejected = 0 if complete else 1
    failed = [r for r in getattr(outcome, "results", ()) if not r]  # apprise 2.x
    if not failed and outcome:
        raise NotifyError("chat notification failed: apprise rejected an apprise URL")
    count = str(len(failed) + rejected) if failed else "some"
    names = ", ".join(f"{r.name} {_status(r)}" for r in failed)
    raise NotifyError(
        f"chat notification failed for {count} of {total + rejected} apprise URLs"
        + (f" ({names})" if names else "")
    )


def _quiet_apprise() -> None:
    """apprise's own log stays silent, --debug included: its lines quote the URLs
    it rebuilds (tokens in another spelling than the redactor knows). Our own
    lines say which service failed."""
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


def _bound(service: Any, timeout: float) -> None:
    """`timeout` as a service's connect and read timeouts, unless its URL set them
    (`?cto=`, `?rto=`: then they differ from its class's defaults)."""
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        default = getattr(type(service), attr, None)
        if default is not None and getattr(service, attr, None) == default:
            setattr(service, attr, timeout)


def _takes_call_timeout(sender: Any) -> bool:
    """Whether this apprise's notify() bounds the whole call (2.x)."""
    import inspect

    return "timeout" in inspect.signature(sender.notify).parameters


def _status(result: Any) -> str:
    status = getattr(getattr(result, "status", None), "name", "")
    return "timed out" if status == "TIMEOUT" else "failed"


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
