"""Pure: what wiring Gitea to Drone has to do, from what Gitea and the cluster hold now.

Drone logs its users in through an OAuth2 application in Gitea. Gitea shows the application's
client secret once, at creation (and makes a new one at every update), so the secret lives only in
the cluster's Secret: when that is lost, or the application no longer matches, the application is
deleted and made again, and Drone is given the new one.

Drone reads its configuration at start; its wiring settings are one Secret, and a hash of them on
the Deployment's pod template restarts it exactly when they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drone_kit.platform.config import DRONE_KIT_NAMESPACE, PlatformConfig
from drone_kit.platform.objects import content_hash

OAUTH_APP_NAME = "drone"  # as Gitea lists it under the admin's applications
TOKEN_NAME = "drone-kit"
# Repositories, their hooks and files; the admin's own OAuth2 applications live under /user,
# which Gitea guards with the user scope as a whole.
TOKEN_SCOPES = ("write:repository", "write:user")
WIRING_SECRET = "drone-wiring"  # in Drone's namespace: its pod can only read Secrets there
GITEA_TOKEN_SECRET = "drone-kit-gitea-token"  # in drone_kit's namespace
SETTINGS_HASH = "drone-kit.io/wiring-hash"
SHIM_URL = f"http://shim.{DRONE_KIT_NAMESPACE}.svc"  # the shim's Service (port 80), as Gitea and Drone reach it

OAuthStep = Literal["keep", "create", "recreate"]


@dataclass(frozen=True)
class LiveApp:
    """Drone's OAuth2 application as Gitea lists it (never with its secret)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    confidential: bool


@dataclass(frozen=True)
class StoredClient:
    """What the wiring Secret holds of the application."""

    client_id: str = ""
    client_secret: str = ""


def login_redirect(config: PlatformConfig) -> str:
    """Drone's /login, byte for byte as Drone sends it to Gitea: {DRONE_SERVER_PROTO}://{HOST}/login."""
    return f"http://{config.drone.ip}/login"


def oauth_step(live: LiveApp | None, stored: StoredClient, redirect: str) -> OAuthStep:
    """Keep an application that is confidential, redirects to Drone's login and whose secret the
    Secret still holds; make one if there is none; otherwise make it again, since its secret
    cannot be read back."""
    if live is None:
        return "create"
    usable = live.confidential and live.redirect_uris == (redirect,)
    if usable and stored.client_id == live.client_id and stored.client_secret:
        return "keep"
    return "recreate"


def drone_settings(config: PlatformConfig, client: StoredClient, hook_signer: str, webhook_secret: str,
                   admin_token: str) -> dict[str, str]:
    """The environment Drone gets from the wiring Secret: its OAuth2 client; the shim as the
    target of the hooks it registers in Gitea (signed with the shim's signer, which Drone would
    otherwise draw anew per repository) and of its build events; and the admin with a known API
    token, which Drone re-applies at every start."""
    return {
        "DRONE_GITEA_CLIENT_ID": client.client_id,
        "DRONE_GITEA_CLIENT_SECRET": client.client_secret,
        "DRONE_SERVER_PROXY_HOST": SHIM_URL.removeprefix("http://"),
        "DRONE_SERVER_PROXY_PROTO": "http",
        "DRONE_FEATURE_SERVER_PROXY_SECRET": hook_signer,
        "DRONE_WEBHOOK_ENDPOINT": f"{SHIM_URL}/drone/events",
        "DRONE_WEBHOOK_SECRET": webhook_secret,
        "DRONE_USER_CREATE": f"username:{config.gitea.admin_user},admin:true,token:{admin_token}",
    }


def settings_hash(settings: dict[str, str]) -> str:
    """A digest for the pod template's annotation: a change of any value restarts Drone, and the
    values themselves stay in the Secret."""
    return content_hash(settings)


def restart_needed(digest: str, template_annotations: dict[str, str]) -> bool:
    """Whether a Deployment last started with other settings than those of `digest`."""
    return template_annotations.get(SETTINGS_HASH) != digest
