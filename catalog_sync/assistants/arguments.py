"""What the MCP tools take, each argument's type and description written once
(pydantic `Field`s: the SDK turns them into each tool's JSON schema), and the
server's instructions: the semantics an assistant must know. Static text: no
text from the API ever goes here."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from catalog_sync.assistants.answers import MAX_LIMIT, MAX_RECORDS

INSTRUCTIONS = """\
catalog-sync keeps the price history of the Hoox model catalog (AI video, image
and audio models; prices in credits). Read-only. Semantics:
- Times are UTC, ISO 8601. A WHEN argument is a date (2026-11-01 = 00:00 UTC), a
  timestamp, a duration ago (7d, 12h) or "now".
- A price holds over a half-open period [valid_from, valid_to): valid_to is the
  start of the next price, null while it is current.
- A cost answer has a basis: exact (observed), boundary (between two
  observations: the price may have changed in that window; alternative_cost
  is the other price), unquoted_point (that parameter combination was never
  quoted), before_first_seen or removed (the model was not in the catalog then).
- An unpriced answer (cost_per_generation null) is not zero and not free: say
  that the price is unknown, and why (its basis). Never substitute a nearby price.
- Money: credits times the credit rate in force (credit_rates); no rate, no amount.
- Lists are bounded: truncated true means there were more rows (total).
"""

WHEN = "A date (2026-11-01 = 00:00 UTC), an ISO timestamp, a duration ago (7d) or 'now'."
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="At most this many rows.")]
Params = Annotated[
    dict[str, str | int | float | bool] | None,
    Field(
        description='Parameter values of the generation, e.g. {"duration": 8, '
        '"resolution": "1080p", "generateAudio": true}; the model\'s defaults at that '
        "moment fill in the rest."
    ),
]
Currency = Annotated[
    str | None,
    Field(description="A currency code (EUR) kept in credit_rates: adds the amount in money."),
]
Moment = Annotated[str | None, Field(description="The moment priced (default now). " + WHEN)]
Count = Annotated[int, Field(ge=1, description="How many generations.")]
Model = Annotated[str, Field(description="The model's name, e.g. veo-3.1.")]
Type = Annotated[str | None, Field(description="Only this type: video, image, audio.")]
Provider = Annotated[str | None, Field(description="Only this provider.")]
Since = Annotated[str | None, Field(description="From this moment. " + WHEN)]
Until = Annotated[str | None, Field(description="Up to, not including. " + WHEN)]
Records = Annotated[
    list[dict[str, Any]],
    Field(
        max_length=MAX_RECORDS,
        description="Usage records, each an object with model, created_at (UTC) and the "
        "generation's parameters (or generation_params/model_settings as Hoox's asset "
        "status has them), optionally count and cost (what was charged).",
    ),
]
