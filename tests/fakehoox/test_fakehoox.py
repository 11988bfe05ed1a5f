"""The fake Hoox API in process (FakeHooxApi.transport(), no socket), and its
generic LoopbackServer on its own."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from support.catalogs import catalog, model, sample_catalog

from catalog_sync.config import ApiConfig, DetailsConfig, PricingConfig
from catalog_sync.errors import AuthFailed, FetchError
from catalog_sync.fakehoox import FakeHooxApi, LoopbackServer, Request, Response
from catalog_sync.fakehoox.documented import MODELS_PATH, PRICING_PATH
from catalog_sync.flows.enrich import Enrich
from catalog_sync.flows.sync import run_sync
from catalog_sync.hoox.retrying import build_client, fetch_catalog
from catalog_sync.hoox.source import HooxSource
from catalog_sync.storage.engine import make_engine

BASE = "http://hoox.test"
API = ApiConfig(base_url=BASE, max_retries=2, backoff_seconds=0, max_requests_per_minute=100_000)


@pytest.fixture
def fake() -> FakeHooxApi:
    """Never started: it answers only through its transport, with no socket."""
    return FakeHooxApi(catalog(model("a", 1), model("b", 2, type="image", tags=["x"])))


def client(fake: FakeHooxApi, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or fake.api_key}"}
    return httpx.Client(base_url=BASE, transport=fake.transport(), headers=headers)


def test_the_list_checks_the_bearer_key(fake: FakeHooxApi) -> None:
    with client(fake, "hx_live_wrong") as wrong:
        refused = wrong.get(MODELS_PATH)
    assert refused.status_code == 401
    assert refused.json()["details"][0]["code"] == "invalid_api_key"
    with client(fake) as right:
        answer = right.get(MODELS_PATH)
    assert answer.status_code == 200
    assert [m["name"] for m in answer.json()["models"]] == ["a", "b"]
    assert answer.headers["X-RateLimit-Limit"] == "100"
    assert [r.headers["Authorization"] for r in fake.requests] == [
        "Bearer hx_live_wrong",
        f"Bearer {fake.api_key}",
    ]
    with pytest.raises(AuthFailed), build_client(API, transport=fake.transport()) as other:
        fetch_catalog(other, API, "hx_live_wrong")


def test_faults_in_process(fake: FakeHooxApi) -> None:
    fake.fail_next(503, times=2, headers={"Retry-After": "0"})
    with build_client(API, transport=fake.transport()) as other:
        fetched = fetch_catalog(other, API, fake.api_key)
    assert fetched.attempts == 3
    assert json.loads(fetched.body)["count"] == 2
    fake.fail_next(500, times=3)
    with build_client(API, transport=fake.transport()) as other, pytest.raises(FetchError):
        fetch_catalog(other, API, fake.api_key)
    assert fake.request_count == 6
    with client(fake) as right:
        fake.drop_next()
        with pytest.raises(httpx.RemoteProtocolError):
            right.get(MODELS_PATH)
        fake.gzip_next()
        gzipped = right.get(MODELS_PATH)
        assert gzipped.headers["Content-Encoding"] == "gzip"
        assert gzipped.json()["count"] == 2
        fake.limit_rate(1)
        assert right.get(MODELS_PATH).status_code == 200
        limited = right.get(MODELS_PATH)
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in limited.headers


def test_filters_details_and_quotes_in_process(fake: FakeHooxApi) -> None:
    with client(fake) as right:
        images = right.get(MODELS_PATH, params={"type": "image"}).json()
        details = right.get(f"{MODELS_PATH}/a").json()
        missing = right.get(f"{MODELS_PATH}/nope")
        quote = right.post(PRICING_PATH, json={"model": "a", "duration": 10}).json()
    hoisted = {k: v for k, v in model("b", 2, type="image", tags=["x"]).items() if k != "type"}
    assert images == {"type": "image", "models": [hoisted], "count": 1}
    assert details["input_schema"]["properties"]["duration"]["enum"] == [5, 10]
    assert missing.status_code == 404
    assert quote["cost_per_generation"] == 2.0
    assert fake.requests[-1].method == "POST"
    assert fake.requests[-1].body == {"model": "a", "duration": 10}


def test_a_sync_through_the_transport(fake: FakeHooxApi, tmp_path: Path) -> None:
    fake.set_catalog(sample_catalog())
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        with build_client(API, transport=fake.transport()) as http:
            source = HooxSource(http, API, fake.api_key)
            enrich = Enrich(source, DetailsConfig(enabled=True), PricingConfig(enabled=True))
            result = run_sync(engine=engine, fetch=source.models, trigger="test", enrich=enrich)
    finally:
        engine.dispose()
    assert result.counts["models_added"] == 22
    assert result.details_failed == 0
    assert any(r.path == PRICING_PATH for r in fake.requests)


def test_the_loopback_server_serves_any_respond_function() -> None:
    seen: list[Request] = []

    def respond(request: Request) -> Response:
        seen.append(request)
        if request.path == "/slow":
            return Response(200, b"late", delay=0.2)
        if request.path == "/drop":
            return Response(drop=True)
        return Response(201, request.body[::-1], {"X-Echo": request.header("x-token")})

    with LoopbackServer(respond) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post("/echo?a=1&a=2", content=b"abc", headers={"X-Token": "t"})
        assert (answer.status_code, answer.content, answer.headers["X-Echo"]) == (201, b"cba", "t")
        chunked = http.post("/echo", content=iter([b"ab", b"cd"]))
        assert chunked.content == b"dcba"
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/drop")
        with pytest.raises(httpx.ReadTimeout):
            http.get("/slow", timeout=0.05)
    assert seen[0].query == {"a": ["1", "2"]} and seen[0].method == "POST"


def test_a_dripping_body_ends_when_the_server_stops() -> None:
    server = LoopbackServer(lambda request: Response(200, b"x" * 100, drip=0.05)).start()
    with httpx.Client() as http, http.stream("GET", server.url) as answer:
        chunks = answer.iter_raw(1)
        first = next(chunks)
        started = time.monotonic()
        server.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            b"".join(chunks)
    assert first == b"x"
    assert time.monotonic() - started < 1
