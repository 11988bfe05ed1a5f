"""What a run tells its caller: its id, observation time, changes and counts,
and the summary line people read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from catalog_sync.core.diff import ChangeSet, summary_line


@dataclass(frozen=True)
class SyncResult:
    run_id: int
    observed_at: dt.datetime
    changes: ChangeSet
    payload_sha256: str | None = None
    # With details enabled: re-priced points, and models whose details or quotes failed.
    points_changed: int | None = None
    details_failed: int | None = None
    repriced_points: tuple[dict[str, Any], ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return self.changes.counts()

    def summary(self, verb: str = "sync ok") -> str:
        tail = ""
        if self.details_failed is not None:
            failed = self.details_failed
            tail = (
                f", {self.points_changed or 0} price points changed, "
                f"{failed} {'detail' if failed == 1 else 'details'} failed"
            )
        return summary_line(self.counts, head=f"{verb} (run {self.run_id})", tail=tail)
