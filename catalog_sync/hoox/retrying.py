"""The Hoox API over an injected httpx.Client: one unfiltered GET, with retries.

Retried (exponential backoff with jitter, up to `max_retries` more attempts):
429 and 5xx (honouring Retry-After, else for a 429 X-RateLimit-Reset, capped), timeouts
and connection errors. An attempt, from connect to its last byte, ends after
`api.timeout_seconds` however slowly the body arrives (a timeout, retried).
Not retried: 401/403 (check HOOX_API_KEY), other 4xx, and any response that
arrived but is invalid. No database here; errors are typed (errors.py).

Everything a server sends is scrubbed of the API key before anyone sees it: a
server (or a proxy) that quotes the request puts it in no message, log line,
stored item or archived body.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from catalog_sync import __version__
from catalog_sync.clock import as_utc, utcnow
from catalog_sync.config import ApiConfig
from catalog_sync.errors import AuthFailed, FetchError
from catalog_sync.hoox.budget import RequestBudget
from catalog_sync.hoox.deadline import Deadline, DeadlineExpired
from catalog_sync.redact import redact_bytes

log = logging.getLogger(__name__)

MODELS_PATH = "/api/public/v1/asset/models"
USER_AGENT = f"catalog-sync/{__version__}"


@dataclass(frozen=True)
class FetchedPayload:
    body: bytes
    url: str
    attempts: int


class _RetryableError(Exception):
    """An attempt failed in a way that the next attempt may not."""

    def __init__(
        self, message: str, retry_after: float | None = None, wait_source: str = ""
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.wait_source = wait_source  # the header that said how long to wait


def models_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    if base.endswith("/api/public/v1"):
        base = base[: -len("/api/public/v1")]
    return base + MODELS_PATH


def build_client(api: ApiConfig, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """One client per process, with explicit timeouts and no redirects."""
    return httpx.Client(
        timeout=httpx.Timeout(api.timeout_seconds),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,
        transport=transport,
        # Plain http is only allowed on loopback (config.check_base_url), where no
        # certificate is ever checked: skip loading the CA bundle (~40 ms).
        verify=not api.base_url.startswith("http://"),
    )


def fetch_catalog(
    client: httpx.Client, api: ApiConfig, api_key: str, *, budget: RequestBudget | None = None
) -> FetchedPayload:
    """GET the unfiltered model list; return the raw body or raise FetchError."""
    return request(client, api, api_key, "GET", models_url(api.base_url), budget=budget)


def request(
    client: httpx.Client,
    api: ApiConfig,
    api_key: str,
    method: str,
    url: str,
    *,
    json_body: Any = None,
    budget: RequestBudget | None = None,
) -> FetchedPayload:
    """One request with the retries of api.*; the body (scrubbed of the key) or a
    FetchError (an AuthFailed for 401/403). Every attempt waits for `budget`."""
    limit = int(api.max_response_mb * 1024 * 1024)
    attempts = 0

    def should_retry(exc: Exception) -> bool | float:
        return _retry_verdict(exc, api, method, url, attempts)

    try:
        for attempt in stamina.retry_context(
            on=should_retry,
            attempts=api.max_retries + 1,
            timeout=None,
            wait_initial=api.backoff_seconds,
            wait_max=max(api.backoff_seconds * 32, api.backoff_seconds),
            wait_jitter=api.backoff_seconds,
        ):
            with attempt:
                attempts += 1
                if budget is not None:
                    budget.acquire()
                body = _attempt(
                    client,
                    method,
                    url,
                    api_key=api_key,
                    limit=limit,
                    seconds=api.timeout_seconds,
                    json_body=json_body,
                )
                return FetchedPayload(body=body, url=url, attempts=attempts)
    except _RetryableError as exc:
        raise FetchError(f"{method} {url} failed after {attempts} attempt(s): {exc}") from exc
    raise AssertionError("unreachable: retry_context ends by returning or raising")


def _retry_verdict(
    exc: Exception, api: ApiConfig, method: str, url: str, attempts: int
) -> bool | float:
    """Whether attempt number `attempts` that raised `exc` is retried, and after how long."""
    if not isinstance(exc, _RetryableError):
        return False
    if attempts > api.max_retries:
        return False  # the last attempt: the FetchError of `request` tells it
    if exc.retry_after is not None:
        delay = min(exc.retry_after, api.retry_after_max_seconds)
        capped = " (capped by api.retry_after_max_seconds)" if delay < exc.retry_after else ""
        log.warning(
            "%s %s attempt %d: %s; retrying in %.1f s (%s)%s",
            method,
            url,
            attempts,
            exc,
            delay,
            exc.wait_source,
            capped,
        )
        return delay
    log.warning("%s %s attempt %d: %s; retrying", method, url, attempts, exc)
    return True


def _attempt(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    api_key: str,
    limit: int,
    seconds: float,
    json_body: Any = None,
) -> bytes:
    deadline = Deadline(seconds)
    try:
        with deadline:
            built = client.build_request(
                method,
                url,
                headers={"Authorization": f"Bearer {api_key}"},
                json=json_body,
                extensions={"trace": deadline.trace},
            )
            response = client.send(built, stream=True)
            try:
                deadline.watch(response.extensions.get("network_stream"))
                if response.status_code != 200:
                    body = _read_capped(response, url, limit, deadline)
                    _raise_for_status(response, redact_bytes(body, api_key), f"{method} {url}")
                return redact_bytes(_read_capped(response, url, limit, deadline), api_key)
            finally:
                response.close()
    except DeadlineExpired as exc:
        raise _RetryableError(str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise _RetryableError(f"timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        if deadline.expired:
            raise _RetryableError(deadline.message) from exc
        raise _RetryableError(f"connection error: {exc or type(exc).__name__}") from exc


def _read_capped(response: httpx.Response, url: str, limit: int, deadline: Deadline) -> bytes:
    """The body, decoded (gzip included) chunk by chunk: refused as soon as it
    passes the cap, so a small compressed body never expands in full."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(_too_large(url, int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        deadline.check()
        size += len(chunk)
        if size > limit:
            raise FetchError(_too_large(url, size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(url: str, size: int, limit: int) -> str:
    return (
        f"GET {url}: response of {size} bytes or more exceeds api.max_response_mb "
        f"({limit / 1048576:g} MB); refused"
    )


def _raise_for_status(response: httpx.Response, body: bytes, what: str) -> None:
    status = response.status_code
    detail = _error_detail(body)
    if status in (401, 403):
        raise AuthFailed(
            f"{what}: HTTP {status}{detail}; check HOOX_API_KEY "
            "(API access needs a valid key on the Enterprise plan)"
        )
    if status == 429 or status >= 500:
        # Hoox sends X-RateLimit-* on every answer: the window's reset says when
        # to come back only after a 429; a 5xx waits only for its Retry-After (a
        # 503 may send one), else the backoff.
        wait, source = _server_wait(response.headers, rate_limited=status == 429)
        raise _RetryableError(f"HTTP {status}{detail}", retry_after=wait, wait_source=source)
    raise FetchError(f"{what}: HTTP {status}{detail}")


def _error_detail(body: bytes) -> str:
    """The API's own error text, when the body has the documented shape."""
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        parts = [document["error"]]
        code = document.get("code")
        details = document.get("details")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            code = details[0].get("code", code)
        if isinstance(code, str):
            parts.append(f"({code})")
        return ": " + " ".join(parts)[:300]
    return ""


def _server_wait(headers: httpx.Headers, *, rate_limited: bool = True) -> tuple[float | None, str]:
    """How long the server asks us to wait, and which header said so.

    `Retry-After` (seconds or an HTTP date) wins; else, when `rate_limited` (a
    429), `X-RateLimit-Reset`, the header Hoox documents: the epoch second at
    which the window resets (a small value is read as seconds from now, as some
    gateways send it)."""
    retry_after = _retry_after(headers.get("Retry-After", "").strip())
    if retry_after is not None:
        return retry_after, "Retry-After"
    if not rate_limited:
        return None, ""
    reset = headers.get("X-RateLimit-Reset", "").strip()
    try:
        value = float(reset)
    except ValueError:
        return None, ""
    if not math.isfinite(value):
        return None, ""
    if value < 1e9:  # seconds from now, not an epoch second (before 2001)
        return max(0.0, value), "X-RateLimit-Reset"
    return max(0.0, value - time.time()), "X-RateLimit-Reset"


def _retry_after(value: str) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if not math.isnan(seconds) else None
    import email.utils  # only for the rare HTTP-date form

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (as_utc(when) - utcnow()).total_seconds())
