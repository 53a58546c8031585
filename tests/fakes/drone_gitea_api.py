"""Drone's REST API over the Gitea-backed store: who calls, what they may do, and the user and
repository routes.

Sources (read, not copied; harness/harness branch `drone`): session/session.go (a bearer or
`access_token` names the user by API token, else the `_session_` cookie; a wrong token is a
guest), handler/api/api.go (the routes and their checks), acl/acl.go (AuthorizeUser: 401
`Unauthorized`), acl/repo.go (InjectRepository: an unknown repository is 404 `Not Found` for a
user, 401 for a guest; a permission unsynced or an hour old is read again from Gitea with the
user's token, and a failure there is 404), acl/check.go (a Drone admin passes; otherwise the
permission decides, and a missing one is 404), user/find.go, user/repos.go, user/sync.go (sync
errors are 500 with the error's text; `?async=true` → 204), repos/builds/list.go and find.go
(a build Drone does not have: 404 `sql: no rows in result set`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tests.fakes import drone_gitea_repos as repos
from tests.fakes.drone_answers import (
    NOT_FOUND,
    UNAUTHORIZED,
    Answer,
    error_answer,
    json_answer,
    method_not_allowed,
    nothing,
    route_not_found,
)
from tests.fakes.drone_api import page_window, token_of
from tests.fakes.drone_gitea_scm import ScmError
from tests.fakes.drone_gitea_step_logs import step_logs_answer
from tests.fakes.drone_gitea_web import SESSION_COOKIE, cookies_of, session_login

if TYPE_CHECKING:
    from tests.fakes.drone_gitea import DroneOnGitea
    from tests.fakes.drone_gitea_store import DroneRepo, DroneUser, Perm

PERM_TTL = 3600
NO_ROWS = "sql: no rows in result set"
REPO_PATH = re.compile(r"/api/repos/([^/]+)/([^/]+)(/repair|/builds|/builds/[^/]+)?/?")
# Which access each repository route needs: read, admin.
ACCESS = {("GET", ""): "read", ("POST", ""): "admin", ("PATCH", ""): "admin", ("DELETE", ""): "admin",
          ("POST", "/repair"): "admin", ("GET", "/builds"): "read", ("GET", "/builds/"): "read"}


def viewer(drone: DroneOnGitea, headers: Mapping[str, str], query: Mapping[str, list[str]]) -> DroneUser | None:
    token = token_of(headers, query)
    if token is not None:
        return drone.store.user_by_token(token)
    login = session_login(cookies_of(headers.get("Cookie") or "").get(SESSION_COOKIE, ""), drone.session_secret)
    return drone.store.user_by_login(login) if login else None


def api_answer(drone: DroneOnGitea, method: str, path: str, query: Mapping[str, list[str]],
               headers: Mapping[str, str], body: bytes) -> Answer:
    step_logs = step_logs_answer(drone, method, path, query, headers, api_answer)
    if step_logs is not None:
        return step_logs
    user = viewer(drone, headers, query)
    if path.rstrip("/") in ("/api/user", "/api/user/repos"):
        if user is None:
            return error_answer(401, UNAUTHORIZED)
        return _user_route(drone, user, method, path.rstrip("/").endswith("/repos"), query)
    found = REPO_PATH.fullmatch(path)
    if found is None:
        return route_not_found()
    rest = found[3] or ""
    with drone.store.lock:
        repo = drone.store.repo_by_name(found[1], found[2])
        if repo is None:
            return error_answer(404, NOT_FOUND) if user else error_answer(401, UNAUTHORIZED)
        perm = _fresh_perm(drone, user, repo) if user else None
    if perm is False:
        return error_answer(404, NOT_FOUND)
    needs = ACCESS.get((method, rest if not rest.startswith("/builds/") else "/builds/"))
    if needs is None:
        return method_not_allowed()
    granted = perm if perm is not None and perm is not False else None
    refusal = _refusal(user, repo, granted, needs)
    if refusal is not None or user is None:
        return refusal or _guest_route(drone, repo, method, rest, query)
    return _repo_route(drone, user, repo, granted, method, rest, query, body)


def _fresh_perm(drone: DroneOnGitea, user: DroneUser, repo: DroneRepo) -> Perm | None | bool:
    """The user's permission, read again from Gitea when stale; False when Gitea would not say."""
    perm = drone.store.perms.get((repo.uid, user.id))
    if perm is None or (perm.synced and perm.synced + PERM_TTL > time.time()):
        return perm
    try:
        drone.scm.renew(user)
        rights = drone.scm.find_repo(user.token, repo.slug).get("permissions") or {}
    except ScmError:
        return False
    perm.read, perm.write, perm.admin = bool(rights.get("pull")), bool(rights.get("push")), bool(rights.get("admin"))
    perm.synced = int(time.time())
    return perm


def _refusal(user: DroneUser | None, repo: DroneRepo, perm: Perm | None, needs: str) -> Answer | None:
    if user is None:
        return None if needs == "read" and not repo.private else error_answer(401, UNAUTHORIZED)
    if user.admin or (needs == "read" and not repo.private):
        return None
    if perm is None or not (perm.admin if needs == "admin" else perm.read):
        return error_answer(404, NOT_FOUND)
    return None


def _user_route(drone: DroneOnGitea, user: DroneUser, method: str, repos_path: bool,
                query: Mapping[str, list[str]]) -> Answer:
    if not repos_path:
        return json_answer(200, user.json()) if method == "GET" else method_not_allowed()
    if method == "GET":
        with drone.store.lock:
            return json_answer(200, [r.json() for r in drone.store.repos_of(user)])
    if method != "POST":
        return method_not_allowed()
    if (query.get("async") or [""])[0] == "true":
        threading.Thread(target=_sync_quietly, args=(drone, user), daemon=True).start()
        return nothing(204)
    try:
        synced = repos.sync(drone, user)
    except ScmError as e:
        return error_answer(500, str(e))
    with drone.store.lock:
        return json_answer(200, [r.json() for r in synced])


def _sync_quietly(drone: DroneOnGitea, user: DroneUser) -> None:
    try:
        repos.sync(drone, user)
    except ScmError:
        pass  # sync.go only logs what an asynchronous sync could not do


def _guest_route(drone: DroneOnGitea, repo: DroneRepo, method: str, rest: str,
                 query: Mapping[str, list[str]]) -> Answer:
    """A guest got past the checks: only reads of a public repository do."""
    if rest.startswith("/builds"):
        return _builds_route(drone, repo, rest, query)
    with drone.store.lock:
        return json_answer(200, repo.json())


def _repo_route(drone: DroneOnGitea, user: DroneUser, repo: DroneRepo, perm: Perm | None, method: str,
                rest: str, query: Mapping[str, list[str]], body: bytes) -> Answer:
    if rest.startswith("/builds"):
        return _builds_route(drone, repo, rest, query)
    if method == "GET":
        with drone.store.lock:
            shown = {"read": perm.read, "write": perm.write, "admin": perm.admin} if perm else None
            return json_answer(200, repo.json(shown))
    with drone.store.lock:
        try:
            if (method, rest) == ("POST", ""):
                repos.enable(drone, user, repo)
            elif (method, rest) == ("POST", "/repair"):
                repos.repair(drone, repo)
            elif method == "PATCH":
                try:
                    changes = json.loads(body or b"null")
                except ValueError as e:
                    return error_answer(400, str(e))
                repos.update(repo, user, changes if isinstance(changes, dict) else {})
            elif method == "DELETE":
                repo.active = False
                if (query.get("remove") or [""])[0] == "true":
                    drone.store.repos.pop(repo.id, None)
        except ScmError as e:
            return error_answer(500, str(e))
        except LookupError as e:
            return error_answer(404, str(e.args[0]))
        return json_answer(200, repo.json())


def _builds_route(drone: DroneOnGitea, repo: DroneRepo, rest: str, query: Mapping[str, list[str]]) -> Answer:
    with drone.store.lock:
        if rest == "/builds":
            first = {name: (values or [""])[0] for name, values in query.items()}
            offset, limit = page_window(first.get("page", ""), first.get("per_page", ""))
            newest_first = [{k: v for k, v in b.items() if k != "stages"} for b in reversed(repo.builds)]
            return json_answer(200, newest_first[offset:offset + limit])
        number = rest.removeprefix("/builds/")
        if not re.fullmatch(r"[+-]?\d+", number):
            return error_answer(400, f'strconv.ParseInt: parsing "{number}": invalid syntax')
        build = next((b for b in repo.builds if b["number"] == int(number)), None)
        return json_answer(200, build) if build else error_answer(404, NO_ROWS)
