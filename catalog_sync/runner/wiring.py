"""The parts of a run, built from a configuration: the one place that makes a
`HooxSource` (and its HTTP client), the details/pricing enrichment, the run's
policy and the digest sender."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from catalog_sync.channels import apprise_urls, webhook_url
from catalog_sync.config import ApiConfig, Config, DetailsConfig, PricingConfig
from catalog_sync.core.guards import Policy
from catalog_sync.hoox.retrying import build_client
from catalog_sync.hoox.source import HooxSource

if TYPE_CHECKING:  # imported when used: a plain sync pays for no notifier and no details
    from catalog_sync.flows.enrich import Enrich

Progress = Callable[[str, int, int], None]
Sender = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Channels:
    """Where a run's digest goes (URLs from the environment; they hold tokens)."""

    webhook: str | None = None
    chat: str | None = None

    @classmethod
    def from_env(cls, config: Config, environ: Mapping[str, str]) -> Channels:
        """The configured channels; a named env var that is unset or a URL apprise
        does not understand is a usage error, found before any request."""
        return cls(webhook_url(config, environ), apprise_urls(config, environ))

    @classmethod
    def for_alerts(cls, config: Config, environ: Mapping[str, str]) -> Channels:
        """The channels of a run that sends no digest (an import): the
        configured ones when an `[[alerts]]` rule sends to any, else none."""
        if any(rule.channels for rule in config.alerts):
            return cls.from_env(config, environ)
        return cls()

    def sender(self, config: Config) -> Sender | None:
        if self.webhook is None and self.chat is None:
            return None
        from catalog_sync.flows.notify import digest_sender

        return digest_sender(
            self.webhook,
            self.chat,
            timeout=config.notify.timeout_seconds,
            attempts=config.notify.max_attempts,
        )

    def alert_senders(self, config: Config) -> dict[str, Sender]:
        """The `[[alerts]]` channels this run has, by name (`alert_rules.CHANNELS`)."""
        from catalog_sync.core.alerting import message_markdown
        from catalog_sync.flows.notify import post_digest, send_markdown

        timeout, attempts = config.notify.timeout_seconds, config.notify.max_attempts
        webhook, chat = self.webhook, self.chat
        senders: dict[str, Sender] = {}
        if webhook is not None:
            senders["webhook"] = lambda message: post_digest(
                webhook, message, timeout=timeout, attempts=attempts
            )
        if chat is not None:
            senders["apprise"] = lambda message: send_markdown(
                chat, *message_markdown(message), timeout=timeout
            )
        return senders


NO_CHANNELS = Channels()


def policy_of(config: Config, allow_mass_removal: bool = False) -> Policy:
    """The run's policy: the configured guards, and the flag that overrides one."""
    return Policy(
        config.sync.max_removed_fraction, allow_mass_removal, config.sync.removal_grace_runs
    )


@contextlib.contextmanager
def hoox_source(
    api: ApiConfig, api_key: str, *, transport: httpx.BaseTransport | None = None
) -> Iterator[HooxSource]:
    """The Hoox API as one run sees it: one client (its pool), one request budget."""
    with build_client(api, transport=transport) as client:
        yield HooxSource(client, api, api_key)


def enrichment(
    source: HooxSource,
    details: DetailsConfig,
    pricing: PricingConfig,
    *,
    progress: Progress | None = None,
) -> Enrich | None:
    """Details and price points for the run, when [details] is enabled."""
    if not details.enabled:
        return None
    from catalog_sync.flows.enrich import Enrich

    return Enrich(source, details, pricing, progress=progress)
