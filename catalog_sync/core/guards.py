"""The safety guards a change set must pass before it is applied. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from catalog_sync.core.diff import ChangeSet
from catalog_sync.errors import GuardRefused


@dataclass(frozen=True)
class Policy:
    """When a missing model counts as removed, and the mass-removal guard: refuse
    removing more than this share of active models."""

    max_removed_fraction: float = 0.5
    allow_mass_removal: bool = False
    removal_grace_runs: int = 1


def check_mass_removal(changes: ChangeSet, active: int, policy: Policy) -> None:
    removed = len(changes.removed_ids)
    if policy.allow_mass_removal or active == 0 or removed / active <= policy.max_removed_fraction:
        return
    raise GuardRefused(
        f"refused: this catalog would remove {removed} of {active} active models "
        f"({removed / active:.0%}), more than sync.max_removed_fraction "
        f"({policy.max_removed_fraction:g}); nothing was applied. If the removal is real, "
        "run again with --allow-mass-removal"
    )
