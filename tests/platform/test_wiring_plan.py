"""What wiring Gitea to Drone decides, from what Gitea and the cluster hold (pure)."""

from __future__ import annotations

import dataclasses

import pytest

from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.wiring_plan import (
    SETTINGS_HASH,
    LiveApp,
    StoredClient,
    drone_settings,
    login_redirect,
    oauth_step,
    restart_needed,
    settings_hash,
)

CONFIG = PlatformConfig()
REDIRECT = "http://192.168.1.202/login"
GOOD = LiveApp("c1", (REDIRECT,), confidential=True)


def test_drones_login_is_the_redirect_byte_for_byte():
    assert login_redirect(CONFIG) == f"http://{CONFIG.drone.ip}/login"


@pytest.mark.parametrize(("live", "stored", "step"), [
    (None, StoredClient(), "create"),
    (None, StoredClient("c0", "s0"), "create"),  # deleted in Gitea: the stored pair is worth nothing
    (GOOD, StoredClient("c1", "s1"), "keep"),
    (GOOD, StoredClient("c1", ""), "recreate"),  # the secret was lost: Gitea will not show it again
    (GOOD, StoredClient(), "recreate"),
    (GOOD, StoredClient("c-other", "s1"), "recreate"),  # made again by hand: ours is not the live one
    (dataclasses.replace(GOOD, confidential=False), StoredClient("c1", "s1"), "recreate"),  # PKCE refusal
    (dataclasses.replace(GOOD, redirect_uris=("http://drone.local/login",)), StoredClient("c1", "s1"), "recreate"),
    (dataclasses.replace(GOOD, redirect_uris=(REDIRECT, "http://x/login")), StoredClient("c1", "s1"), "recreate"),
])
def test_the_oauth_application_is_kept_only_when_drone_can_log_in_with_what_is_stored(live, stored, step):
    assert oauth_step(live, stored, REDIRECT) == step


def settings(**changes):
    values = {"client": StoredClient("c1", "s1"), "hook_signer": "h" * 64, "webhook_secret": "w" * 64,
              "admin_token": "t" * 32, **changes}
    return drone_settings(CONFIG, **values)


def test_drone_gets_its_client_the_shim_as_hook_and_event_target_and_the_admin_with_its_token():
    got = settings()
    assert got["DRONE_GITEA_CLIENT_ID"] == "c1" and got["DRONE_GITEA_CLIENT_SECRET"] == "s1"
    assert got["DRONE_SERVER_PROXY_HOST"] == "shim.drone-kit.svc" and got["DRONE_SERVER_PROXY_PROTO"] == "http"
    assert got["DRONE_FEATURE_SERVER_PROXY_SECRET"] == "h" * 64
    assert got["DRONE_WEBHOOK_ENDPOINT"] == "http://shim.drone-kit.svc/drone/events"
    assert got["DRONE_WEBHOOK_SECRET"] == "w" * 64
    assert got["DRONE_USER_CREATE"] == f"username:{CONFIG.gitea.admin_user},admin:true,token:{'t' * 32}"
    assert "machine:true" not in got["DRONE_USER_CREATE"]  # a machine account may not log in through Gitea


def test_drone_restarts_exactly_when_a_setting_changes_and_the_annotation_holds_no_secret():
    current = {SETTINGS_HASH: settings_hash(settings())}
    assert not restart_needed(settings_hash(settings()), current)
    assert restart_needed(settings_hash(settings(client=StoredClient("c2", "s2"))), current)
    assert restart_needed(settings_hash(settings(webhook_secret="x" * 64)), current)
    assert restart_needed(settings_hash(settings()), {})
    assert all(secret not in current[SETTINGS_HASH] for secret in ("s1", "h" * 64, "t" * 32))
