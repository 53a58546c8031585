"""Drone's `/login` with Gitea: go-login's OAuth2 middleware, then Drone's login handler.

Sources (read, not copied): drone/go-login v1.1.0 (Drone's pinned version) login/gitea/gitea.go
(no scope and no PKCE; client id and secret in the form, not Basic), login/internal/oauth2/
handler.go (an `error` parameter is the whole error; no code → state cookie and 303 to Gitea;
the state cookie is deleted before it is checked), util.go (`_oauth_state_`, a hex random,
Max-Age 1800; a missing cookie is net/http's "http: named cookie not present", another value
"Invalid state"), config.go (authorizeRedirect's keys; exchange: grant_type, code, client_id,
client_secret, state, redirect_uri; an answer above 299 is "<error>: <error_description>"),
error.go; harness/harness branch `drone` handler/web/login.go (upsert by login; a new user is
sent to /register; machine → "Machine account login is forbidden"; the Gitea tokens, the last
login and a week-old sync are refreshed; a user without an e-mail created after 2021-05-01 is
sent to /register too; errors → 303 `/login/error?message=<text, unescaped>`).
"""

from __future__ import annotations

import secrets as random_tokens
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tests.fakes.drone_gitea_repos import sync
from tests.fakes.drone_gitea_scm import ScmError, send
from tests.fakes.drone_gitea_store import uniuri
from tests.fakes.drone_gitea_web import WebAnswer, redirect, session_cookie

if TYPE_CHECKING:
    from tests.fakes.drone_gitea import DroneOnGitea

STATE_COOKIE = "_oauth_state_"
DELETE_STATE = f"{STATE_COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
SYNC_PERIOD = 7 * 24 * 3600  # login.go syncPeriod: weekly
REGISTRATION_CUTOFF = 1619841600  # login.go: accounts created after this must register an e-mail


class LoginError(Exception):
    pass


def login_answer(drone: DroneOnGitea, method: str, params: dict[str, str], cookies: dict[str, str]) -> WebAnswer:
    """The answer to `/login` with its query (and form) values and the browser's cookies."""
    if params.get("error"):
        return _login_error(method, params["error"])
    code = params.get("code", "")
    if not code:
        state = f"{random_tokens.randbits(64):x}"
        return redirect(_authorize_url(drone, state), "/login", method, [f"{STATE_COOKIE}={state}; Max-Age=1800"])
    state = params.get("state", "")
    set_cookies = [DELETE_STATE]
    if STATE_COOKIE not in cookies:
        return _login_error(method, "http: named cookie not present", set_cookies)
    if state != cookies[STATE_COOKIE]:
        return _login_error(method, "Invalid state", set_cookies)
    try:
        tokens = _exchange(drone, code, state)
        landing, cookie = _sign_in(drone, tokens)
    except (LoginError, ScmError) as e:
        return _login_error(method, str(e), set_cookies)
    return redirect(landing, "/login", method, [*set_cookies, cookie])


def _login_error(method: str, message: str, cookies: list[str] | None = None) -> WebAnswer:
    return redirect("/login/error?message=" + message, "/login", method, cookies)


def _authorize_url(drone: DroneOnGitea, state: str) -> str:
    config = drone.config
    query = urlencode(sorted({"client_id": config.client_id, "redirect_uri": config.login_redirect,
                              "response_type": "code", "state": state}.items()))
    return f"{config.gitea_base}/login/oauth/authorize?{query}"


def _exchange(drone: DroneOnGitea, code: str, state: str) -> dict:
    config = drone.config
    form = {"client_id": config.client_id, "client_secret": config.client_secret, "code": code,
            "grant_type": "authorization_code", "redirect_uri": config.login_redirect, "state": state}
    answer = send("POST", f"{config.gitea_base}/login/oauth/access_token", data=form,
                  headers={"Accept": "application/json"})
    try:
        body = answer.json()
    except ValueError:
        body = {}  # Go's decoder fails quietly here and leaves the error's fields empty
    if answer.status_code > 299:
        raise LoginError(f"{body.get('error', '')}: {body.get('error_description', '')}")
    return body if isinstance(body, dict) else {}


def _sign_in(drone: DroneOnGitea, tokens: dict) -> tuple[str, str]:
    """HandleLogin once go-login has the tokens: (where the browser goes, the session cookie)."""
    access, refresh = str(tokens.get("access_token") or ""), str(tokens.get("refresh_token") or "")
    account = drone.scm.find_user(access)
    now = int(time.time())
    store = drone.store
    with store.lock:
        landing = "/"
        user = store.user_by_login(account["login"])
        if user is None:
            landing = "/register"
            user = store.add_user(account["login"], avatar=account["avatar"], syncing=True, hash=uniuri())
        if user.machine:
            raise LoginError("Machine account login is forbidden")
        if not user.active:
            raise LoginError("Account is not active")
        user.avatar, user.token, user.refresh, user.last_login = account["avatar"], access, refresh, now
        user.expiry = now + int(tokens.get("expires_in") or 0)
        if user.synced + SYNC_PERIOD < now:
            user.syncing = True
        user.updated = now
        if user.syncing:
            threading.Thread(target=_sync_quietly, args=(drone, user), daemon=True).start()
        if not user.email and user.created > REGISTRATION_CUTOFF:
            landing = "/register"
        drone.logins.append(user.login)
        return landing, session_cookie(user.login, drone.session_secret)


def _sync_quietly(drone: DroneOnGitea, user: object) -> None:
    try:
        sync(drone, user)  # type: ignore[arg-type]
    except ScmError:
        pass  # login.go only logs a failed background sync

