"""The shim's configuration, checked when the shim starts: every error names the option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from drone_kit.errors import DroneKitError

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
    max_body: int = MAX_BODY

    def __post_init__(self) -> None:
        for key in ("drone_url", "grafana_url"):
            value = getattr(self, key)
            if value and urlparse(value).scheme not in ("http", "https"):
                raise DroneKitError(f"{key}: expected an http(s):// URL, got {value!r}",
                                    hint=f"set --{key.replace('_', '-')} or DRONE_KIT_SHIM_{key.upper()}")
        if not self.hook_secret:
            raise DroneKitError("hook_secret: not set; without it no hook can be checked",
                                hint="set it to Drone's DRONE_FEATURE_SERVER_PROXY_SECRET "
                                     "(--hook-secret or DRONE_KIT_SHIM_HOOK_SECRET)")
