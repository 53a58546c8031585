"""Pure: what wiring a repository to Drone has to do, from Drone's record of it and Gitea's hooks.

Activating makes Drone delete every hook of the repository on its proxy host and create one anew
(handler/api/repos/enable.go), so it is done only when the repository is not active or its hook
to the shim is not exactly one live hook: a second run leaves the hook, and its id, alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from drone_kit.platform.wiring_plan import SHIM_URL

PIPELINE_FILE = ".drone.yml"


@dataclass(frozen=True)
class RepoSettings:
    timeout: int = 60  # minutes: Drone's default, long enough for a Pi's first multi-arch build
    trusted: bool | None = None  # None: as it is. True lets build-push run privileged; only on request


def hooks_to_shim(hooks: list[dict]) -> list[dict]:
    """The hooks that deliver to the shim, Drone's DRONE_SERVER_PROXY_HOST."""
    host = urlsplit(SHIM_URL).netloc
    return [hook for hook in hooks if urlsplit(str((hook.get("config") or {}).get("url") or "")).netloc == host]


def activation_needed(drone_repo: dict, hooks: list[dict]) -> bool:
    ours = hooks_to_shim(hooks)
    return not drone_repo.get("active") or len(ours) != 1 or not ours[0].get("active")


def hook_problem(hooks: list[dict]) -> str | None:
    """What is wrong with the repository's hook to the shim after activation, if anything."""
    ours = hooks_to_shim(hooks)
    if not ours:
        elsewhere = ", ".join(sorted({urlsplit(str((h.get("config") or {}).get("url") or "")).netloc for h in hooks}))
        return (f"Gitea has no hook to the shim ({urlsplit(SHIM_URL).netloc})"
                + (f"; its hooks go to {elsewhere}" if elsewhere else ""))
    if len(ours) > 1:
        return f"Gitea has {len(ours)} hooks to the shim: every push would build {len(ours)} times"
    if not ours[0].get("active"):
        return "Gitea's hook to the shim is inactive"
    if "push" not in (ours[0].get("events") or []):
        return "Gitea's hook to the shim is not sent on push"
    return None


def settings_changes(drone_repo: dict, wanted: RepoSettings) -> dict[str, Any]:
    """The PATCH body that brings Drone's settings of the repository to `wanted` ({} when they are)."""
    changes: dict[str, Any] = {}
    if drone_repo.get("timeout") != wanted.timeout:
        changes["timeout"] = wanted.timeout
    if wanted.trusted is not None and bool(drone_repo.get("trusted")) != wanted.trusted:
        changes["trusted"] = wanted.trusted
    if drone_repo.get("config_path") not in (None, "", PIPELINE_FILE):
        changes["config_path"] = PIPELINE_FILE
    return changes
