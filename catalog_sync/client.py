"""The Hoox API over an injected httpx.Client: one unfiltered GET, with retries.

Retried (exponential backoff with jitter, up to `max_retries` more attempts):
429 and 5xx (honouring Retry-After when given, capped), timeouts and connection
errors.
Not retried: 401/403 (check HOOX_API_KEY), other 4xx, and any response that
arrived but is invalid. No database here; errors are typed (errors.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import types
from dataclasses import dataclass

# httpx imports its own command-line client (rich and pygments, ~40 ms) whenever
# click and rich are installed, as they are here; a cron job pays that on every
# run for nothing. An empty placeholder makes httpx skip it.
sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))

import httpx  # noqa: E402
import stamina  # noqa: E402

from catalog_sync import __version__  # noqa: E402
from catalog_sync.config import ApiConfig  # noqa: E402
from catalog_sync.errors import FetchError  # noqa: E402

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

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def fetch_catalog(client: httpx.Client, api: ApiConfig, api_key: str) -> FetchedPayload:
    """GET the unfiltered model list; return the raw body or raise FetchError."""
    url = models_url(api.base_url)
    limit = int(api.max_response_mb * 1024 * 1024)
    attempts = 0

    def should_retry(exc: Exception) -> bool | float:
        if not isinstance(exc, _RetryableError):
            return False
        if exc.retry_after is not None:
            delay = min(exc.retry_after, api.retry_after_max_seconds)
            log.warning("attempt %d: %s; retrying in %.1f s (Retry-After)", attempts, exc, delay)
            return delay
        log.warning("attempt %d: %s; retrying", attempts, exc)
        return True

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
                body = _attempt(client, url, api_key, limit)
                return FetchedPayload(body=body, url=url, attempts=attempts)
    except _RetryableError as exc:
        raise FetchError(f"GET {url} failed after {attempts} attempt(s): {exc}") from exc
    raise AssertionError("unreachable: retry_context ends by returning or raising")


def _attempt(client: httpx.Client, url: str, api_key: str, limit: int) -> bytes:
    try:
        with client.stream("GET", url, headers={"Authorization": f"Bearer {api_key}"}) as response:
            status = response.status_code
            if status != 200:
                response.read()
                _raise_for_status(response, url)
            return _read_capped(response, url, limit)
    except httpx.TimeoutException as exc:
        raise _RetryableError(f"timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise _RetryableError(f"connection error: {exc or type(exc).__name__}") from exc


def _read_capped(response: httpx.Response, url: str, limit: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(_too_large(url, int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
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


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    detail = _error_detail(response)
    if status in (401, 403):
        raise FetchError(
            f"GET {url}: HTTP {status}{detail}; check HOOX_API_KEY "
            "(API access needs a valid key on the Enterprise plan)"
        )
    if status == 429:
        raise _RetryableError(f"HTTP 429{detail}", retry_after=_retry_after(response))
    if status >= 500:  # a 503 may say when to come back, too
        raise _RetryableError(f"HTTP {status}{detail}", retry_after=_retry_after(response))
    raise FetchError(f"GET {url}: HTTP {status}{detail}")


def _error_detail(response: httpx.Response) -> str:
    """The API's own error text, when the body has the documented shape."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        parts = [body["error"]]
        code = body.get("code")
        details = body.get("details")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            code = details[0].get("code", code)
        if isinstance(code, str):
            parts.append(f"({code})")
        return ": " + " ".join(parts)[:300]
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # only for the rare HTTP-date form

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
