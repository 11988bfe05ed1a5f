"""The warning for text a database cannot hold, replaced when parsed (core.storable)."""

from __future__ import annotations

import logging

from catalog_sync.core.payload import Catalog

log = logging.getLogger(__name__)

REPAIRED = "a NUL or a lone surrogate replaced by U+FFFD (no database can hold them)"
MAX_NAMED = 20  # a catalog full of them is one warning per field up to this, then a count


def warn_repaired(catalog: Catalog) -> None:
    """One warning per repaired field, naming the item and the field."""
    for where in catalog.repaired[:MAX_NAMED]:
        log.warning("%s: %s", where, REPAIRED)
    if len(catalog.repaired) > MAX_NAMED:
        log.warning("and %d more fields: %s", len(catalog.repaired) - MAX_NAMED, REPAIRED)
