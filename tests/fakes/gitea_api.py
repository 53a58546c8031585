"""Gitea's REST API, the calls drone_kit and Drone make, each behind the checks of its route group
in routers/api/v1/api.go: `/user/...` needs the user scope (and `/user/repos` the repository scope
too), `/admin/...` the admin scope and a site admin, `/users/{u}/tokens` Basic auth with a password,
`/repos/...` the repository scope. Handlers follow routers/api/v1/user/app.go, admin/user.go,
repo/repo.go, repo/branch.go (GetBranch) and repo/file.go (GetRawFile: `raw/{ref}/{path}` as
go-scm's Contents.Find asks it, scm/driver/gitea/content.go, or `raw/{path}?ref=`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets as random_tokens
import uuid
from typing import TYPE_CHECKING
from urllib.parse import ParseResult, parse_qs, unquote

from tests.fakes import gitea_auth, gitea_hooks, gitea_payloads
from tests.fakes.gitea_auth import Caller
from tests.fakes.gitea_json import (
    VERSION,
    Answer,
    api_error,
    json_answer,
    no_content,
    not_found,
    paged_answer,
    repo_json,
    user_json,
)

if TYPE_CHECKING:
    from requests.structures import CaseInsensitiveDict

    from tests.fakes.gitea import AccessToken, FakeGitea, Repo

ALL_RIGHTS = {"admin": True, "push": True, "pull": True}


def answer(gitea: FakeGitea, method: str, url: ParseResult, headers: CaseInsensitiveDict, body: bytes) -> Answer:
    query = parse_qs(url.query)
    with gitea.lock:
        try:
            who = gitea_auth.caller(gitea, headers.get("Authorization") or "", query)
        except gitea_auth.BadCredentials:
            return api_error(gitea, 401, "invalid username, password or token")
        if who.user is not None and who.user.must_change_password:
            return json_answer(403, {"message": "You must change your password. Change it at: "
                                     f"{gitea.root_url}/user/change_password"})
        try:
            form = json.loads(body) if body else {}
        except ValueError as e:
            return api_error(gitea, 422, f"[]: {e}")
        return _route(gitea, who, method, url.path[len("/api/v1"):].rstrip("/"), query, form)


def _route(gitea: FakeGitea, who: Caller, method: str, path: str, query: dict, form: dict) -> Answer:
    if path == "/version" and method == "GET":
        return json_answer(200, {"version": VERSION})
    if m := re.fullmatch(r"/users/([^/]+)/tokens(?:/([^/]+))?", path):
        return _tokens(gitea, who, method, m[1], m[2], query, form)
    if path == "/user" or path.startswith("/user/"):
        return _user_routes(gitea, who, method, path[len("/user"):], query, form)
    if path == "/admin/users" and method == "POST":
        refusal = _need(gitea, who, method, "admin")
        if refusal is None and not who.user.is_admin:  # type: ignore[union-attr]
            refusal = api_error(gitea, 403, "user should be the site admin")
        return refusal or _create_user(gitea, form)
    if (m := re.fullmatch(r"/orgs/([^/]+)/repos", path)) and method == "POST":
        return _create_org_repo(gitea, who, m[1], form)
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path):
        return _repo_routes(gitea, who, method, f"{m[1]}/{m[2]}", unquote(m[3] or ""), query, form)
    return not_found(gitea)


def _need(gitea: FakeGitea, who: Caller, method: str, *categories: str) -> Answer | None:
    """A route group's tokenRequiresScopes then reqToken."""
    refusal = gitea_auth.missing_scope(who, method, *categories)
    if refusal is not None:
        return api_error(gitea, 403, refusal)
    return api_error(gitea, 401, "token is required") if who.user is None else None


def _tokens(gitea: FakeGitea, who: Caller, method: str, login: str, token_id: str | None, query: dict,
            form: dict) -> Answer:
    owner = gitea.user(login)
    if owner is None:
        return not_found(gitea)
    if who.user is None or (who.user.id != owner.id and not who.user.is_admin):
        return api_error(gitea, 403, "doer should be the site admin or be same as the contextUser")
    if not who.basic_password:
        return api_error(gitea, 401, "auth required")
    mine = [t for t in gitea.tokens if t.user_id == owner.id]
    if method == "GET" and token_id is None:
        return paged_answer(gitea, f"/users/{login}/tokens", query, [_token_json(t) for t in mine])
    if method == "DELETE" and token_id is not None:
        found = [t for t in mine if str(t.id) == token_id] if token_id.isdigit() else \
            [t for t in mine if t.name == token_id]
        if len(found) > 1:
            return api_error(gitea, 422, f"multiple matches for token name '{token_id}'")
        if not found:
            return not_found(gitea)
        gitea.tokens.remove(found[0])
        return no_content()
    if method != "POST" or token_id is not None:
        return not_found(gitea)
    if not form.get("name"):
        return api_error(gitea, 422, "[Name]: Required")
    if any(t.name == form["name"] for t in mine):
        return api_error(gitea, 400, "access token name has been used already")
    try:
        scope = gitea_auth.normalize(list(form.get("scopes") or []))
    except gitea_auth.ScopeError as e:
        return api_error(gitea, 400, f"invalid access token scope provided: {e}")
    if not scope:
        return api_error(gitea, 400, "access token must have a scope")
    from tests.fakes.gitea import AccessToken as NewToken
    token = NewToken(gitea.next_id("token"), owner.id, form["name"], random_tokens.token_hex(20), scope)
    gitea.tokens.append(token)
    return json_answer(201, {**_token_json(token), "sha1": token.secret})


def _token_json(token: AccessToken) -> dict:
    return {"id": token.id, "name": token.name, "sha1": "", "token_last_eight": token.secret[-8:],
            "scopes": token.scope.split(",")}


def _create_user(gitea: FakeGitea, form: dict) -> Answer:
    for name, field_name in (("username", "Username"), ("email", "Email")):
        if not form.get(name):
            return api_error(gitea, 422, f"[{field_name}]: Required")
    if gitea.user(form["username"]) is not None:
        return api_error(gitea, 422, f"user already exists [name: {form['username']}]")
    if any(u.email.lower() == form["email"].lower() for u in gitea.users_by_id.values()):
        return api_error(gitea, 422, f"e-mail already in use [email: {form['email']}]")
    user = gitea.add_user(form["username"], form.get("password") or "", form["email"],
                          must_change_password=form.get("must_change_password", True) is not False)
    user.full_name = form.get("full_name") or ""
    return json_answer(201, user_json(gitea, user))


def _user_routes(gitea: FakeGitea, who: Caller, method: str, rest: str, query: dict, form: dict) -> Answer:
    refusal = _need(gitea, who, method, "user")
    if refusal is not None:
        return refusal
    assert who.user is not None
    if rest == "" and method == "GET":
        return json_answer(200, user_json(gitea, who.user))
    if rest == "/repos":
        refusal = _need(gitea, who, method, "repository")
        if refusal is not None:
            return refusal
        if method == "POST":
            return _create_repo(gitea, who.user.login, form)
        return paged_answer(gitea, "/user/repos", query, [repo_json(gitea, r, ALL_RIGHTS) for r in sorted(
            (r for r in gitea.repos.values() if gitea.can_write(who.user, r)), key=lambda r: r.id)])
    if m := re.fullmatch(r"/applications/oauth2(?:/(\d+))?", rest):
        from tests.fakes.gitea_oauth import app_routes
        return app_routes(gitea, who.user, method, int(m[1]) if m[1] else None, query, form)
    return not_found(gitea)


def _create_repo(gitea: FakeGitea, owner: str, form: dict) -> Answer:
    if not form.get("name"):
        return api_error(gitea, 422, "[Name]: Required")
    if gitea.repo(f"{owner}/{form['name']}") is not None:
        return api_error(gitea, 409, "The repository with the same name already exists.")
    from tests.fakes.gitea import Repo
    repo = Repo(gitea.next_id("repo"), gitea.users_by_login[owner.lower()].login, form["name"],
                bool(form.get("private")), form.get("default_branch") or "main", form.get("description") or "")
    gitea.git.create(repo, auto_init=bool(form.get("auto_init")), author=gitea.users_by_login[owner.lower()])
    gitea.repos[repo.full_name.lower()] = repo
    return json_answer(201, repo_json(gitea, repo, ALL_RIGHTS))


def _create_org_repo(gitea: FakeGitea, who: Caller, org_name: str, form: dict) -> Answer:
    org = gitea.user(org_name)
    if org is None or not org.is_org:
        return not_found(gitea)
    refusal = _need(gitea, who, "POST", "organization")
    if refusal is not None:
        return refusal
    assert who.user is not None
    if not who.user.is_admin and who.user.login.lower() not in org.members:
        return api_error(gitea, 403, f"Given user is not allowed to create repository in organization {org.login}.")
    return _create_repo(gitea, org.login, form)


def _repo_routes(gitea: FakeGitea, who: Caller, method: str, full_name: str, rest: str, query: dict,
                 form: dict) -> Answer:
    refusal = gitea_auth.missing_scope(who, method, "repository")
    if refusal is not None:
        return api_error(gitea, 403, refusal)
    repo = gitea.repo(full_name)
    if repo is None or not gitea.can_read(who.user, repo):
        return not_found(gitea)  # repoAssignment: a private repository is not there for outsiders
    if rest == "" and method == "GET":
        rights = ALL_RIGHTS if gitea.can_write(who.user, repo) else {"admin": False, "push": False, "pull": True}
        return json_answer(200, repo_json(gitea, repo, rights))
    if rest.startswith("/raw/") and method == "GET":
        return _raw(gitea, repo, rest[len("/raw/"):], (query.get("ref") or [""])[0])
    if rest.startswith("/contents/") and method == "GET":
        return _contents(gitea, repo, rest[len("/contents/"):], (query.get("ref") or [""])[0])
    if rest.startswith("/branches/") and method == "GET":
        return _branch(gitea, who, repo, rest[len("/branches/"):])
    if rest == "/hooks" or rest.startswith("/hooks/"):
        if who.user is None:
            return api_error(gitea, 401, "token is required")
        if not gitea.can_write(who.user, repo):
            return api_error(gitea, 403, "user should be an owner or a collaborator with admin write of a repository")
        return gitea_hooks.routes(gitea, repo, method, rest[len("/hooks"):], query, form)
    return not_found(gitea)


def _branch(gitea: FakeGitea, who: Caller, repo: Repo, name: str) -> Answer:
    """GetBranch (routers/api/v1/repo/branch.go) and convert.ToBranch for a branch without
    protection: its head as ToPayloadCommit makes it (the author's date as `timestamp`; no file
    lists, which only webhooks fill); 404 for a branch that does not exist, as in an empty
    repository."""
    head = gitea.git.refs(repo).get(f"refs/heads/{name}")
    if head is None:
        return not_found(gitea)
    commit = {**gitea_payloads.commit_json(gitea, repo, head), "added": None, "removed": None, "modified": None}
    writer = gitea.can_write(who.user, repo)
    return json_answer(200, {"name": name, "commit": commit, "protected": False, "required_approvals": 0,
                             "enable_status_check": False, "status_check_contexts": [], "user_can_push": writer,
                             "user_can_merge": writer, "effective_branch_protection_name": ""})


def _raw(gitea: FakeGitea, repo: Repo, path: str, ref: str) -> Answer:
    """RepoRefForAPI: `?ref=`, else the longest branch or tag name the path starts with, else a
    commit id, else the default branch."""
    if not ref:
        names = sorted(gitea.git.ref_names(repo), key=len, reverse=True)
        ref = next((n for n in names if path.startswith(n + "/")), "")
        first = path.split("/", 1)[0]
        if not ref and re.fullmatch(r"[0-9a-f]{7,40}", first) and gitea.git.has_commit(repo, first):
            ref = first
        path = path[len(ref) + 1:] if ref else path
    content = gitea.git.read_file(repo, ref or repo.default_branch, path)
    if content is None:
        return not_found(gitea)
    return Answer(200, content, "text/plain; charset=utf-8", [("X-Gitea-Object-Type", "file")])


def _contents(gitea: FakeGitea, repo: Repo, path: str, ref: str) -> Answer:
    """GetContents for a file (routers/api/v1/repo/file.go, services/repository/files/content.go):
    ContentsResponse with the bytes in base64; directories are not modelled (404)."""
    ref = ref or repo.default_branch
    content = gitea.git.read_file(repo, ref, path)
    if content is None:
        return api_error(gitea, 404, f"object does not exist [id: , rel_path: {path}]")
    name = path.rsplit("/", 1)[-1]
    return json_answer(200, {"name": name, "path": path, "sha": "", "last_commit_sha": "", "type": "file",
                             "size": len(content), "encoding": "base64",
                             "content": base64.b64encode(content).decode(), "target": None,
                             "url": f"{gitea.root_url}api/v1/repos/{repo.full_name}/contents/{path}?ref={ref}",
                             "html_url": f"{gitea.root_url}{repo.full_name}/src/branch/{ref}/{path}",
                             "download_url": f"{gitea.root_url}{repo.full_name}/raw/branch/{ref}/{path}"})


def new_client_id() -> str:
    return str(uuid.uuid4())
