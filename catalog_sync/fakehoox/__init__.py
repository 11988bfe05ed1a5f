"""The fake Hoox API (for `catalog-sync demo` and the tests), and the generic
loopback HTTP server it runs on.

    server.py      LoopbackServer: a respond function (Request -> Response) on loopback
    documented.py  what Hoox documents: paths, error bodies, filters, rate-limit headers
    catalog.py     Get Model bodies and the pricing engine
    beyond.py      the routes beyond the list: Get Model and pricing
    api.py         FakeHooxApi: the switches, the list route, `respond` and `transport()`
"""

from catalog_sync.fakehoox.api import DEFAULT_KEY, FakeHooxApi
from catalog_sync.fakehoox.documented import RecordedRequest
from catalog_sync.fakehoox.server import LoopbackServer, Request, Response, mock_transport

__all__ = [
    "DEFAULT_KEY",
    "FakeHooxApi",
    "LoopbackServer",
    "RecordedRequest",
    "Request",
    "Response",
    "mock_transport",
]
