"""Drone's REST API as the fake Drone answers it: who may call it, and the calls the shim makes
(repository sync, activation, a repository's builds page by page).

Sources (read, not copied; harness/harness, branch `drone`, Drone 2.28):
- session/session.go: the token is the `Authorization` header minus a leading "Bearer ", or the
  `access_token` query parameter when there is no such header. A wrong token is no user: the
  request goes on as a guest and is refused where a user is needed.
- handler/api/acl/acl.go, repo.go, check.go: a guest gets 401 `Unauthorized`, for a repository
  Drone does not have too; a user asking for one gets 404 `Not Found`. The access checks run
  before the router picks the method (405 only once they pass). Guests may read public
  repositories; the fake's repositories are private, as the platform's are.
- handler/api/user/sync.go (200 with the repositories; `?async=true` → 204), repos/enable.go
  (200 with the repository), repos/disable.go, repos/builds/list.go (paging below).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from tests.fakes.drone import FakeDrone

DEFAULT_PER_PAGE = 25  # list.go: what a missing, zero, negative or over-the-cap per_page becomes
MAX_PER_PAGE = 100
GO_INTEGER = re.compile(r"[+-]?[0-9]+")  # what strconv.Atoi accepts; anything else reads as 0
ADMIN = {"id": 1, "login": "drone-kit", "email": "", "machine": True, "admin": True, "active": True,
         "avatar": "", "syncing": False, "synced": 0, "created": 0, "updated": 0, "last_login": 0}


def token_of(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> str | None:
    header = headers.get("Authorization") or ""
    if header:
        return header.removeprefix("Bearer ")  # case-sensitive, and a bare token passes too
    return (query.get("access_token") or [""])[0] or None


def page_window(page: str, per_page: str) -> tuple[int, int]:
    """(offset, limit) of a builds page as list.go computes them. A page below 1 is the first:
    list.go would pass a negative offset, which SQLite (Drone's default database) reads as 0."""
    limit = _atoi(per_page)
    if not 1 <= limit <= MAX_PER_PAGE:
        limit = DEFAULT_PER_PAGE  # not capped to 100: per_page=500 gives 25
    number = _atoi(page)
    return (0 if number <= 1 else (number - 1) * limit), limit


def _atoi(text: str) -> int:
    return int(text) if GO_INTEGER.fullmatch(text) else 0


def api_answer(drone: FakeDrone, method: str, path: str, query: Mapping[str, list[str]],
               headers: Mapping[str, str]) -> Answer:
    """Drone's answer to `method path` under /api; the caller holds `drone.lock`."""
    token = token_of(headers, query)
    user = token is not None and hmac.compare_digest(token.encode(), drone.token.encode())
    parts = [part for part in path.split("/")[2:] if part]
    if parts[:1] == ["user"] and len(parts) <= 2 and parts[1:] in ([], ["repos"]):
        if not user:
            return error_answer(401, UNAUTHORIZED)
        return _user_route(drone, method, parts[1:], query)
    if parts[:1] == ["repos"] and len(parts) in (3, 4) and parts[3:] in ([], ["builds"]):
        slug = f"{parts[1]}/{parts[2]}"
        if drone.repo_state(slug) == "unknown":
            return error_answer(404, NOT_FOUND) if user else error_answer(401, UNAUTHORIZED)
        if not user:
            return error_answer(401, UNAUTHORIZED)
        return _builds_route(drone, method, slug, query) if parts[3:] else _repo_route(drone, method, slug)
    return route_not_found()


def _user_route(drone: FakeDrone, method: str, rest: list[str], query: Mapping[str, list[str]]) -> Answer:
    if not rest:
        return json_answer(200, ADMIN) if method == "GET" else _not_faked(method)
    if method == "GET":
        return json_answer(200, drone.known_repos())
    if method != "POST":
        return method_not_allowed()
    drone.sync()
    if (query.get("async") or [""])[0] == "true":
        return nothing(204)
    return json_answer(200, drone.known_repos())


def _repo_route(drone: FakeDrone, method: str, slug: str) -> Answer:
    if method == "GET":
        return json_answer(200, drone.repo_json(slug))
    if method == "POST":
        drone.activate(slug)
        return json_answer(200, drone.repo_json(slug))
    if method == "DELETE":
        drone.deactivate(slug)
        return json_answer(200, drone.repo_json(slug))
    return _not_faked(method) if method == "PATCH" else method_not_allowed()


def _builds_route(drone: FakeDrone, method: str, slug: str, query: Mapping[str, list[str]]) -> Answer:
    if method != "GET":
        return _not_faked(method) if method in ("POST", "DELETE") else method_not_allowed()
    first = {name: (values or [""])[0] for name, values in query.items()}
    offset, limit = page_window(first.get("page", ""), first.get("per_page", ""))
    newest_first = list(reversed(drone.builds.get(slug, [])))
    # list.go: `branch` and `tag` narrow the list to one ref, branch first.
    if first.get("branch"):
        newest_first = [b for b in newest_first if b["ref"] == f"refs/heads/{first['branch']}"]
    elif first.get("tag"):
        newest_first = [b for b in newest_first if b["ref"] == f"refs/tags/{first['tag']}"]
    return json_answer(200, newest_first[offset:offset + limit])


def _not_faked(method: str) -> Answer:
    """A call real Drone has that this fake does not: loud, so a test never takes it for Drone's."""
    return error_answer(501, f"the fake Drone does not implement {method} here")
