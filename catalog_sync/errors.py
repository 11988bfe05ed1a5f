"""Errors, grouped by what the caller should do about them.

Every error the tool raises on purpose derives from ``CatalogSyncError`` and
carries the process exit code the CLI maps it to::

    CatalogSyncError
    ├── UsageError          2  bad option, bad config, missing HOOX_API_KEY
    ├── RunFailed           1  the run failed; nothing was applied
    │   ├── FetchError         network or HTTP failure (after retries)
    │   │   └── AuthFailed        401/403: check HOOX_API_KEY
    │   ├── PayloadError       the body arrived but is not a valid catalog
    │   └── StoreError         the database refused or failed
    ├── GuardRefused        3  a safety guard refused the change set
    └── LockBusy            4  another run holds this database's lock

Messages never contain the API key or a database password.
"""

from __future__ import annotations


class CatalogSyncError(Exception):
    """Root of every error the tool raises on purpose."""

    exit_code = 1


class UsageError(CatalogSyncError):
    """Bad option, bad configuration or missing secret: fix the invocation."""

    exit_code = 2


class RunFailed(CatalogSyncError):
    """The run failed and nothing was applied; the next run may succeed."""

    exit_code = 1


class FetchError(RunFailed):
    """The catalog could not be fetched (network, timeout, HTTP status)."""


class AuthFailed(FetchError):
    """401/403: the key is missing, wrong or not allowed; every request would fail."""


class PayloadError(RunFailed):
    """A response arrived but is not a valid catalog."""


class StoreError(RunFailed):
    """The database failed while reading or applying."""


class GuardRefused(CatalogSyncError):
    """A safety guard refused the change set; nothing was applied."""

    exit_code = 3


class LockBusy(CatalogSyncError):
    """Another run holds this database's lock; nothing was applied."""

    exit_code = 4


def first_line(exc: BaseException) -> str:
    """An exception's first line of text (a driver's message runs on with SQL and
    parameters), or its type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
