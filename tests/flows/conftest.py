"""Fixtures of the flows' tests: real receivers on loopback for what a run
sends (support.receivers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.receivers import ChatReceiver, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint."""
    hook = Receiver()
    with hook.server:
        yield hook


@pytest.fixture
def chat() -> Iterator[ChatReceiver]:
    """A chat endpoint for apprise's json:// and form:// services."""
    receiver = ChatReceiver()
    with receiver.server:
        yield receiver
