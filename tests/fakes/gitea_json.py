"""How Gitea writes what it answers: JSON as Go's encoder writes it, its API error shapes, and the
JSON shapes of users, repositories and OAuth2 applications (modules/structs/user.go, repo.go,
services/context/api.go, services/convert/convert.go; read, not copied).

Field order follows the structs, as the webhook fixtures in tests/fixtures/gitea do: a client
comparing bytes (a signature check) sees the same bytes Gitea would send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.gitea import FakeGitea, Repo, User

# Go's encoder escapes these so JSON can sit in HTML; a client comparing bytes would see it.
GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
JSON_TYPE = "application/json;charset=utf-8"  # ctx.JSON's Content-Type
NOT_FOUND = "The target couldn't be found."  # locale error.not_found
ZERO_TIME = "0001-01-01T00:00:00Z"
VERSION = "1.25.2"  # what /api/v1/version reports


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # a list: Set-Cookie comes more than once


def _escaped(text: str) -> str:
    for raw, escaped in GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def go_json(value: object) -> bytes:
    """`json.NewEncoder(w).Encode(value)`, as ctx.JSON writes: compact, HTML-escaped, newline-ended."""
    return (_escaped(json.dumps(value, separators=(",", ":"), ensure_ascii=False)) + "\n").encode()


def go_indented(value: object) -> bytes:
    """`json.MarshalIndent(value, "", "  ")`, a webhook body: two spaces, no trailing newline."""
    return _escaped(json.dumps(value, indent=2, ensure_ascii=False)).encode()


def json_answer(status: int, value: object, headers: list[tuple[str, str]] | None = None) -> Answer:
    return Answer(status, go_json(value), JSON_TYPE, headers or [])


def api_error(gitea: FakeGitea, status: int, message: str) -> Answer:
    """APIContext.APIError: `{"message", "url"}`, the url being the swagger page."""
    return json_answer(status, {"message": message, "url": f"{gitea.root_url}api/swagger"})


def not_found(gitea: FakeGitea) -> Answer:
    """APIErrorNotFound: a map, so Go writes its keys sorted; no details → `errors: null`."""
    return json_answer(404, {"errors": None, "message": NOT_FOUND, "url": f"{gitea.root_url}api/swagger"})


def no_content() -> Answer:
    return Answer(204)


def plain(status: int, text: str) -> Answer:
    """http.Error: the text and a newline, as net/http writes it."""
    return Answer(status, (text + "\n").encode(), "text/plain; charset=utf-8")


def user_json(gitea: FakeGitea, user: User) -> dict:
    return {"id": user.id, "login": user.login, "login_name": "", "source_id": 0, "full_name": user.full_name,
            "email": user.email, "avatar_url": f"{gitea.root_url}avatars/{user.id}",
            "html_url": f"{gitea.root_url}{user.login}", "language": "", "is_admin": user.is_admin,
            "last_login": ZERO_TIME, "created": user.created, "restricted": False, "active": True,
            "prohibit_login": False, "location": "", "website": "", "description": "", "visibility": "public",
            "followers_count": 0, "following_count": 0, "starred_repos_count": 0, "username": user.login}


def repo_json(gitea: FakeGitea, repo: Repo, permissions: dict[str, bool]) -> dict:
    owner = gitea.users_by_login[repo.owner]
    base = f"{gitea.root_url}{repo.full_name}"
    return {"id": repo.id, "owner": user_json(gitea, owner), "name": repo.name, "full_name": repo.full_name,
            "description": repo.description, "empty": gitea.git.is_empty(repo), "private": repo.private,
            "fork": False, "template": False, "parent": None, "mirror": False, "size": 0, "language": "",
            "languages_url": f"{gitea.root_url}api/v1/repos/{repo.full_name}/languages", "html_url": base,
            "url": f"{gitea.root_url}api/v1/repos/{repo.full_name}", "link": "",
            "ssh_url": f"git@127.0.0.1:{repo.full_name}.git", "clone_url": f"{base}.git", "original_url": "",
            "website": "", "stars_count": 0, "forks_count": 0, "watchers_count": 1, "open_issues_count": 0,
            "open_pr_counter": 0, "release_counter": 0, "default_branch": repo.default_branch, "archived": False,
            "created_at": repo.created, "updated_at": repo.created, "archived_at": "1970-01-01T00:00:00Z",
            "permissions": permissions, "has_issues": True, "has_wiki": True, "has_pull_requests": True,
            "has_projects": True, "has_releases": True, "has_packages": True, "has_actions": False,
            "ignore_whitespace_conflicts": False, "allow_merge_commits": True, "allow_rebase": True,
            "allow_rebase_explicit": True, "allow_squash_merge": True, "allow_rebase_update": True,
            "default_delete_branch_after_merge": False, "default_merge_style": "merge",
            "default_allow_maintainer_edit": False, "avatar_url": "", "internal": False, "mirror_interval": "",
            "object_format_name": "sha1", "mirror_updated": ZERO_TIME, "repo_transfer": None, "topics": [],
            "licenses": []}


def paged_answer(gitea: FakeGitea, path: str, query: dict, items: list) -> Answer:
    """A list as Gitea's API pages it (utils.GetListOptions, SetTotalCountHeader, SetLinkHeader):
    `page` from 1, `limit` at most MAX_RESPONSE_ITEMS (50), X-Total-Count, and a Link header with
    next/prev/first/last, which go-scm follows (Drone's sync) and drone_kit counts by total."""
    def number(key: str, default: int) -> int:
        text = (query.get(key) or [""])[0]
        return int(text) if text.isdigit() and int(text) > 0 else default

    page, limit = number("page", 1), min(number("limit", 30), 50)
    last = max((len(items) + limit - 1) // limit, 1)
    url = f"{gitea.root_url}api/v1{path}"
    links = [(page + 1, "next")] if page < last else []
    links += [(last, "last")] if page < last else []
    links += [(1, "first"), (page - 1, "prev")] if page > 1 else []
    headers = [("X-Total-Count", str(len(items)))]
    if links:
        headers.append(("Link", ",".join(f'<{url}?limit={limit}&page={n}>; rel="{rel}"' for n, rel in links)))
    return json_answer(200, items[(page - 1) * limit: page * limit], headers)
