"""Whether Drone's admin account has logged in through Gitea, asked with the admin's own Drone
token (`GET /api/user`, harness/drone handler/api/user/find.go): an account seeded by
DRONE_USER_CREATE has `last_login` 0 until a login through Gitea gives Drone its Gitea token."""

from __future__ import annotations

import requests

from drone_kit.clients.gitea_api import scrubbed
from drone_kit.clients.login_browser import FirstLoginFailed, manual_step


def drone_account(drone_url: str, token: str, timeout: float = 10.0,
                  session: requests.Session | None = None) -> dict:
    """Drone's `/api/user` for the token's account: `{id, login, machine, admin, active,
    last_login, …}`; FirstLoginFailed when Drone cannot say."""
    drone = drone_url.rstrip("/")
    try:
        answer = (session or requests.Session()).get(f"{drone}/api/user", timeout=timeout,
                                                     headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as e:
        raise FirstLoginFailed(f"Drone at {drone} is unreachable ({type(e).__name__})",
                               hint=f"check that Drone is running and answers at {drone}") from None
    if answer.status_code == 401:
        raise FirstLoginFailed("Drone refused the admin's token on /api/user",
                               hint="the token must be the one in DRONE_USER_CREATE (token:…) of Drone's configuration")
    try:
        account = answer.json()
    except ValueError:
        account = None
    if answer.status_code != 200 or not isinstance(account, dict):
        said = scrubbed(" ".join(answer.text.split())[:120], (token,))
        raise FirstLoginFailed(f"Drone answered {answer.status_code} to /api/user: {said}",
                               hint=f"check that {drone} is Drone")
    return account


def verify_first_login(drone_url: str, token: str, username: str, timeout: float = 10.0,
                       session: requests.Session | None = None) -> dict:
    """The admin's Drone account once it has logged in through Gitea; FirstLoginFailed, with
    the manual step as hint, while it has not."""
    account = drone_account(drone_url, token, timeout, session)
    login = str(account.get("login") or "")
    hint = manual_step(drone_url, username)
    if login.lower() != username.lower():
        raise FirstLoginFailed(f"Drone's admin token belongs to {login or 'no account'}, not to {username}",
                               hint="DRONE_USER_CREATE must name the Gitea admin: username:" + username)
    if account.get("machine"):
        raise FirstLoginFailed(f"Drone's account {login} is a machine account, which cannot log in through Gitea",
                               hint="drop machine:true from DRONE_USER_CREATE and restart Drone")
    if not account.get("last_login"):
        raise FirstLoginFailed(f"Drone's account {login} has never logged in through Gitea, so Drone has no "
                               "Gitea token for it", hint=hint)
    return account
