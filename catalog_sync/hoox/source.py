"""The Hoox API as a run sees it: the list, Get Model and pricing, every request
sharing one client (its connection pool), the retries of api.* and one budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from catalog_sync.config import ApiConfig
from catalog_sync.hoox.budget import RequestBudget
from catalog_sync.hoox.retrying import MODELS_PATH, models_url, request

PRICING_PATH = "/api/public/v1/asset/pricing"


@dataclass
class HooxSource:
    """Thread-safe: details and quotes go out a few at a time."""

    client: httpx.Client
    api: ApiConfig
    api_key: str
    budget: RequestBudget = field(init=False)

    def __post_init__(self) -> None:
        self.budget = RequestBudget(self.api.max_requests_per_minute)

    @property
    def requests(self) -> int:
        """Attempts made so far (retries included)."""
        return self.budget.used

    def models(self) -> bytes:
        """The unfiltered model list."""
        return request(
            self.client, self.api, self.api_key, "GET", self._url(MODELS_PATH), budget=self.budget
        ).body

    def model(self, name: str) -> bytes:
        """Get Model: the list item plus settings and input_schema."""
        url = models_url(self.api.base_url) + "/" + quote(name, safe="")
        return request(self.client, self.api, self.api_key, "GET", url, budget=self.budget).body

    def quote(self, body: dict[str, Any]) -> bytes:
        """POST /asset/pricing for one point (debits nothing)."""
        return request(
            self.client,
            self.api,
            self.api_key,
            "POST",
            self._url(PRICING_PATH),
            json_body=body,
            budget=self.budget,
        ).body

    def _url(self, path: str) -> str:
        return models_url(self.api.base_url)[: -len(MODELS_PATH)] + path
