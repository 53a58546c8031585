"""One Deployment as the deploy step found it before changing it: what a rollback restores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Target:
    """One Deployment as found before the change, which is what a rollback restores."""

    name: str
    deployment: dict
    container: str
    from_image: str
    template: dict | None  # None when there is nothing to roll back to
    revision: str
    generation: int = 0  # the generation our change made
    changed_template: dict | None = None  # the pod template our change made (None: watch only)
