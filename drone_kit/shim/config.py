"""The shim's configuration, checked when the shim starts: every error names the option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from drone_kit.errors import DroneKitError
from drone_kit.shim.group_commit import MAX_BATCH

MAX_BODY = 5 * 1024 * 1024


@dataclass(frozen=True)
class ShimConfig:
    drone_url: str
    outbox: Path
    hook_secret: str = ""  # Drone's signer (DRONE_FEATURE_SERVER_PROXY_SECRET): Gitea signs with it
    drone_token: str = ""
    webhook_secret: str = ""  # DRONE_WEBHOOK_SECRET, for /drone/events
    grafana_url: str = ""
    grafana_token: str = ""
    auto_activate: bool = False
    retry_base: float = 1.0
    retry_max: float = 60.0
    retry_attempts: int = 100  # a hook Drone keeps refusing fails after this many attempts…
    retry_age: float = 3600.0  # …or this long after its first attempt
    retention: float = 7 * 24 * 3600.0  # delivered hooks are kept this long, for /deliveries
    commit_batch: int = MAX_BATCH  # hooks per outbox transaction at most (1: one fsync per hook)
    max_body: int = MAX_BODY

    def __post_init__(self) -> None:
        for key in ("drone_url", "grafana_url"):
            value = getattr(self, key)
            if value and urlparse(value).scheme not in ("http", "https"):
                raise DroneKitError(f"{key}: expected an http(s):// URL, got {value!r}",
                                    hint=f"set --{key.replace('_', '-')} or DRONE_KIT_SHIM_{key.upper()}")
        for key in ("retry_base", "retry_max", "retry_attempts", "retry_age", "retention", "commit_batch", "max_body"):
            if getattr(self, key) <= 0:
                raise DroneKitError(f"{key}: must be above 0, got {getattr(self, key)!r}",
                                    hint=f"set --{key.replace('_', '-')} or DRONE_KIT_SHIM_{key.upper()}")
        if self.auto_activate and not self.drone_token:
            # refused here, not at the first activation: without a token each one would only log a warning
            raise DroneKitError("auto_activate: needs drone_token, which is not set (Drone activates a repository "
                                "only for a token's user)",
                                hint="set --drone-token or DRONE_KIT_SHIM_DRONE_TOKEN (a Drone admin token), or "
                                     "leave out --auto-activate and DRONE_KIT_SHIM_AUTO_ACTIVATE")
        if not self.hook_secret:
            raise DroneKitError("hook_secret: not set; without it no hook can be checked",
                                hint="set it to Drone's DRONE_FEATURE_SERVER_PROXY_SECRET "
                                     "(--hook-secret or DRONE_KIT_SHIM_HOOK_SECRET)")
