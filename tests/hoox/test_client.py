"""Narrow client tests over httpx.MockTransport: headers, errors, Retry-After."""

from __future__ import annotations

import httpx
import pytest

from catalog_sync.config import ApiConfig
from catalog_sync.errors import FetchError
from catalog_sync.hoox.retrying import build_client, fetch_catalog, models_url

API = ApiConfig(base_url="https://api.test", max_retries=2, backoff_seconds=0.0)


def fetch(handler, api: ApiConfig = API) -> bytes:  # type: ignore[no-untyped-def]
    with build_client(api, transport=httpx.MockTransport(handler)) as client:
        return fetch_catalog(client, api, "secret-key").body


def test_url_and_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b'{"models": []}')

    assert fetch(handler) == b'{"models": []}'
    (request,) = seen
    assert str(request.url) == "https://api.test/api/public/v1/asset/models"
    assert request.headers["authorization"] == "Bearer secret-key"
    assert request.headers["user-agent"].startswith("catalog-sync/")


def test_base_url_with_the_api_prefix_is_not_doubled() -> None:
    assert models_url("https://x/api/public/v1/") == "https://x/api/public/v1/asset/models"


def test_error_detail_from_the_documented_shape_and_no_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403, json={"error": "Enterprise plan required", "details": [{"code": "plan_required"}]}
        )

    with pytest.raises(FetchError) as info:
        fetch(handler)
    message = str(info.value)
    assert "HTTP 403: Enterprise plan required (plan_required); check HOOX_API_KEY" in message
    assert "secret-key" not in message


def test_retry_after_is_capped() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "3600"})
        return httpx.Response(200, content=b"{}")

    api = ApiConfig(base_url="https://api.test", retry_after_max_seconds=0.01)
    assert fetch(handler, api) == b"{}"
    assert calls == 2


def test_retry_after_as_an_http_date_in_the_past_retries_at_once() -> None:
    responses = [
        httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        httpx.Response(200, content=b"{}"),
    ]
    assert fetch(lambda request: responses.pop(0)) == b"{}"


def test_redirects_are_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://elsewhere"})

    with pytest.raises(FetchError, match="HTTP 301"):
        fetch(handler)


def test_declared_content_length_over_the_cap_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(10**9)}, content=b"{}")

    with pytest.raises(FetchError, match=r"exceeds api\.max_response_mb"):
        fetch(handler)


def test_x_ratelimit_reset_in_epoch_seconds_is_waited_for(caplog: pytest.LogCaptureFixture) -> None:
    """The wait decided (stamina's testing mode skips the sleep itself)."""
    import re
    import time

    reset = time.time() + 40
    responses = [
        httpx.Response(429, headers={"X-RateLimit-Reset": f"{reset:.3f}"}),
        httpx.Response(200, content=b"{}"),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return responses.pop(0)

    api = ApiConfig(base_url="https://api.test", max_retries=1, retry_after_max_seconds=60)
    with caplog.at_level("WARNING", logger="catalog_sync.hoox.retrying"):
        assert fetch(handler, api) == b"{}"
    (line,) = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    waited = re.search(r"retrying in ([\d.]+) s \(X-RateLimit-Reset\)", line)
    assert waited is not None, line
    assert 39 <= float(waited.group(1)) <= 40


def test_retry_after_wins_over_x_ratelimit_reset() -> None:
    from catalog_sync.hoox.retrying import _server_wait

    both = httpx.Headers({"Retry-After": "2", "X-RateLimit-Reset": "9999999999"})
    assert _server_wait(both) == (2.0, "Retry-After")
    assert _server_wait(httpx.Headers({"X-RateLimit-Reset": "5"})) == (5.0, "X-RateLimit-Reset")
    assert _server_wait(httpx.Headers({"X-RateLimit-Reset": "soon"})) == (None, "")
    assert _server_wait(httpx.Headers({"X-RateLimit-Reset": "1000000000"}))[0] == 0.0  # past


def test_a_key_quoted_in_an_error_or_a_body_never_reaches_the_caller() -> None:
    def quoting(request: httpx.Request) -> httpx.Response:
        echo = request.headers["authorization"]
        return httpx.Response(400, json={"error": f"bad request (Authorization: {echo})"})

    with pytest.raises(FetchError) as info:
        fetch(quoting)
    assert "secret-key" not in str(info.value)
    assert "Authorization: Bearer [redacted]" in str(info.value)

    def echoing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"models": [], "seen": "Bearer secret-key"}')

    assert fetch(echoing) == b'{"models": [], "seen": "Bearer [redacted]"}'


def test_a_5xx_waits_for_the_backoff_not_for_the_rate_limit_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Hoox sends X-RateLimit-Reset on every answer; only a 429 waits for it."""
    import time

    far = f"{time.time() + 3600:.0f}"
    responses = [
        httpx.Response(500, headers={"X-RateLimit-Reset": far, "X-RateLimit-Remaining": "59"}),
        httpx.Response(503, headers={"Retry-After": "0", "X-RateLimit-Reset": far}),
        httpx.Response(200, content=b"{}"),
    ]
    api = ApiConfig(base_url="https://api.test", backoff_seconds=0.0, retry_after_max_seconds=3600)
    with caplog.at_level("WARNING"):
        assert fetch(lambda request: responses.pop(0), api) == b"{}"
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("catalog_sync")]
    assert "HTTP 500" in lines[0] and lines[0].endswith("; retrying")
    assert "(Retry-After)" in lines[1]
    assert not any("X-RateLimit-Reset" in line for line in lines)


def test_the_last_attempt_is_not_announced_as_retried(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"), pytest.raises(FetchError, match=r"after 3 attempt\(s\)"):
        fetch(lambda request: httpx.Response(500))
    retrying = [r for r in caplog.records if r.name.startswith("catalog_sync")]
    assert len(retrying) == 2  # attempts 1 and 2; the third fails the request
