"""The Gitea client against a small Gitea on loopback that checks how each call signs in and
answers with the statuses and JSON shapes of go-gitea/gitea (routers/api/v1/user/app.go,
modules/structs/user_app.go, hook.go, repo_file.go; errors as `{"message", "url"}`)."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from drone_kit.clients.gitea import DRONE_EVENTS, GiteaClient, OAuthApp, RepositoryExists, TokenNameTaken
from drone_kit.clients.gitea_api import GiteaError
from tests.fakes.http_server import FakeHandler, LoopbackServer

ADMIN, PASSWORD, TOKEN = "gitadmin", "pass-Word-7731", "a" * 40
BASIC = "Basic " + base64.b64encode(f"{ADMIN}:{PASSWORD}".encode()).decode()


class Gitea:
    """The state of the little Gitea, and what it was asked."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict, str]] = []  # method, path, query, Authorization
        self.bodies: list[dict] = []
        self.tokens = [{"id": 1, "name": "old", "sha1": "", "token_last_eight": "1234abcd", "scopes": ["all"]}]
        self.apps: list[dict] = []
        self.repos = [{"id": n, "full_name": f"{ADMIN}/r{n}", "name": f"r{n}"} for n in range(1, 6)]
        self.hooks: list[dict] = []
        self.page_cap = 50  # [api] MAX_RESPONSE_ITEMS
        self.total_header = True
        self.failures: list[int] = []  # statuses to answer first, whatever the call
        self.files = {".drone.yml": b"kind: pipeline\nsteps: []\n"}
        self.branches = {"main": "a" * 40, "feature/x": "b" * 40}
        self.echo = ""  # words added to every error message, as a Gitea repeating what it was sent


def serve(gitea: Gitea) -> LoopbackServer:
    class Handler(FakeHandler):
        def _error(self, status: int, message: str) -> None:
            self.answer(status, {"message": message + gitea.echo, "url": "http://gitea.lan/api/swagger"})

        def _page(self, items: list[dict], query: dict) -> None:
            page, limit = int(query.get("page", ["1"])[0]), min(int(query.get("limit", ["30"])[0]), gitea.page_cap)
            chunk = items[(page - 1) * limit:page * limit]
            self.answer(200, chunk, headers={"X-Total-Count": str(len(items))} if gitea.total_header else None)

        def _handle(self) -> None:
            url = urlsplit(self.path)
            query, auth = parse_qs(url.query), self.headers.get("Authorization", "")
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            gitea.seen.append((self.command, url.path, query, auth))
            gitea.bodies.append(body)
            if gitea.failures:
                return self._error(gitea.failures.pop(0), "busy")
            path = url.path.removeprefix("/api/v1")
            if path.startswith(f"/users/{ADMIN}/tokens"):
                if auth != BASIC:  # reqBasicAuth
                    return self._error(401, "auth required")
                return self._tokens(path, body, query)
            if auth != f"token {TOKEN}":
                return self._error(401, "token is required")
            self._with_token(path, body, query)

        def _tokens(self, path: str, body: dict, query: dict) -> None:
            if self.command == "GET":
                return self._page([{k: v for k, v in t.items() if k != "sha1"} for t in gitea.tokens], query)
            if self.command == "POST":
                if any(t["name"] == body["name"] for t in gitea.tokens):
                    return self._error(400, "access token name has been used already")
                if any(s not in ("all", "write:user", "write:repository", "write:admin") for s in body["scopes"]):
                    return self._error(400, "invalid access token scope provided: bad scope")
                token = {"id": len(gitea.tokens) + 1, "name": body["name"], "sha1": "f" * 40,
                         "token_last_eight": "ffffffff"}
                gitea.tokens.append({**token, "scopes": body["scopes"]})
                return self.answer(201, token)
            name = path.rsplit("/", 1)[1]
            kept = [t for t in gitea.tokens if name not in (str(t["id"]), t["name"])]
            found, gitea.tokens = len(kept) < len(gitea.tokens), kept
            self.answer(204, b"", None) if found else self._error(404, "The target couldn't be found.")

        def _with_token(self, path: str, body: dict, query: dict) -> None:
            if path == "/user":
                return self.answer(200, {"id": 1, "login": ADMIN, "is_admin": True, "email": "a@b.c"})
            if path == "/user/applications/oauth2" and self.command == "POST":
                app = {"id": 7, "name": body["name"], "client_id": "cid-1", "client_secret": "gto_secret_1",
                       "confidential_client": body.get("confidential_client", False),
                       "redirect_uris": body["redirect_uris"], "created": "2024-01-01T00:00:00Z"}
                gitea.apps.append(app)
                return self.answer(201, app)
            if path == "/user/applications/oauth2":
                return self._page([{**app, "client_secret": ""} for app in gitea.apps], query)
            if path.startswith("/user/applications/oauth2/"):
                return self._app(int(path.rsplit("/", 1)[1]), body)
            if path == "/user/repos" and self.command == "POST":
                if any(r["name"] == body["name"] for r in gitea.repos):
                    return self._error(409, "The repository with the same name already exists.")
                repo = {"id": 99, "name": body["name"], "full_name": f"{ADMIN}/{body['name']}",
                        "default_branch": body["default_branch"], "private": body["private"]}
                gitea.repos.append(repo)
                return self.answer(201, repo)
            if path == "/user/repos":
                return self._page(gitea.repos, query)
            self._repo(path, body, query)

        def _app(self, app_id: int, body: dict) -> None:
            app = next((a for a in gitea.apps if a["id"] == app_id), None)
            if app is None:
                return self._error(404, "The target couldn't be found.")
            if self.command == "DELETE":
                gitea.apps.remove(app)
                return self.answer(204, b"", None)
            if not body.get("name") or not body.get("redirect_uris"):  # binding:"Required"
                return self._error(422, "[Name]: Required")
            app.update(name=body["name"], redirect_uris=body["redirect_uris"],
                       confidential_client=body["confidential_client"], client_secret="gto_secret_2")
            self.answer(200, app)

        def _repo(self, path: str, body: dict, query: dict) -> None:
            parts = path.split("/")  # "", "repos", owner, name, …
            repo = next((r for r in gitea.repos if r["full_name"] == f"{parts[2]}/{parts[3]}"), None)
            if repo is None:
                return self._error(404, "The target couldn't be found.")
            rest = parts[4:]
            if not rest:
                return self.answer(200, repo)
            if rest == ["hooks"] and self.command == "POST":
                if not body["config"].get("url", "").startswith("http"):
                    return self._error(422, f"Invalid url: {body['config'].get('url')} {body['config']['secret']}")
                hook = {"id": len(gitea.hooks) + 1, "type": body["type"], "events": body["events"],
                        "active": body.get("active", False), "config": {
                            "url": body["config"]["url"], "content_type": body["config"]["content_type"]}}
                gitea.hooks.append(hook)
                return self.answer(201, hook)
            if rest == ["hooks"]:
                return self._page(gitea.hooks, query)
            if rest[0] == "branches":
                name = "/".join(rest[1:])
                if name not in gitea.branches:
                    return self._error(404, "The target couldn't be found.")
                return self.answer(200, {"name": name, "commit": {"id": gitea.branches[name],
                                                                  "timestamp": "2026-11-26T09:41:02+03:00"}})
            if rest[0] == "hooks":
                hook_id = int(rest[1])
                found = any(h["id"] == hook_id for h in gitea.hooks)
                gitea.hooks = [h for h in gitea.hooks if h["id"] != hook_id]
                return self.answer(204, b"", None) if found else self._error(404, "The target couldn't be found.")
            self._contents("/".join(rest[1:]), query)

        def _contents(self, file: str, query: dict) -> None:
            if file == "src":
                return self.answer(200, [{"name": "main.py", "type": "file"}])
            if file not in gitea.files or query.get("ref", ["main"])[0] != "main":
                return self._error(404, "GetContentsOrList")
            self.answer(200, {"name": file, "path": file, "type": "file", "size": len(gitea.files[file]),
                              "encoding": "base64", "content": base64.b64encode(gitea.files[file]).decode()})

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

    return LoopbackServer(Handler)


@pytest.fixture
def gitea():
    state = Gitea()
    with serve(state) as server:
        state.url = server.url
        state.server = server
        yield state


def client(gitea, **kwargs) -> GiteaClient:
    return GiteaClient(gitea.url, **{"token": TOKEN, "username": ADMIN, "password": PASSWORD,
                                     "sleep": lambda seconds: None, **kwargs})


def test_the_current_user_is_read_with_the_token(gitea):
    assert client(gitea).current_user()["login"] == ADMIN
    assert gitea.seen == [("GET", "/api/v1/user", {}, f"token {TOKEN}")]


def test_a_token_is_created_with_basic_auth_only(gitea):
    made = client(gitea).create_token("drone_kit", ["write:user", "write:repository"])
    assert (made.name, made.sha1, made.last_eight) == ("drone_kit", "f" * 40, "ffffffff")
    assert "f" * 40 not in repr(made)  # a logged token object never shows the token
    assert gitea.seen[-1][1:] == (f"/api/v1/users/{ADMIN}/tokens", {}, BASIC)
    assert gitea.bodies[-1] == {"name": "drone_kit", "scopes": ["write:user", "write:repository"]}


def test_a_token_name_used_already_is_its_own_error(gitea):
    with pytest.raises(TokenNameTaken) as caught:
        client(gitea).create_token("old", ["all"])
    assert caught.value.status == 400 and "'old'" in caught.value.message


def test_a_bad_scope_says_which_scopes_exist(gitea):
    with pytest.raises(GiteaError) as caught:
        client(gitea).create_token("new", ["write:everything"])
    assert "invalid access token scope provided" in caught.value.message
    assert "write:" in caught.value.hint


def test_tokens_are_listed_and_deleted_by_name_or_id(gitea):
    gitea_client = client(gitea)
    assert [(t.id, t.name, t.scopes, t.sha1) for t in gitea_client.tokens()] == [(1, "old", ("all",), "")]
    assert gitea_client.delete_token("old") is True
    assert gitea_client.delete_token(1) is False


def test_token_calls_need_the_password():
    with pytest.raises(GiteaError) as caught:
        GiteaClient("http://127.0.0.1:9", token=TOKEN, username=ADMIN).create_token("x", ["all"])
    assert "password" in caught.value.message and "Basic" in caught.value.hint


def test_the_oauth_app_is_confidential_and_its_secret_is_kept_out_of_repr(gitea):
    gitea_client = client(gitea)
    app = gitea_client.create_oauth_app("drone", ["http://drone.lan/login"])
    assert gitea.bodies[-1] == {"name": "drone", "redirect_uris": ["http://drone.lan/login"],
                                "confidential_client": True}
    assert (app.id, app.client_id, app.client_secret, app.confidential) == (7, "cid-1", "gto_secret_1", True)
    assert "gto_secret_1" not in repr(app)
    listed = gitea_client.find_oauth_app("drone")
    assert listed is not None and listed.client_secret == "" and listed.redirect_uris == ("http://drone.lan/login",)
    assert gitea_client.find_oauth_app("nope") is None


def test_updating_the_redirect_uris_brings_a_new_secret(gitea):
    gitea_client = client(gitea)
    app = gitea_client.create_oauth_app("drone", ["http://old/login"])
    updated = gitea_client.update_oauth_app(app, ["http://drone.lan/login"])
    assert gitea.seen[-1][:2] == ("PATCH", "/api/v1/user/applications/oauth2/7")
    assert gitea.bodies[-1] == {"name": "drone", "redirect_uris": ["http://drone.lan/login"],
                                "confidential_client": True}
    assert updated.client_secret == "gto_secret_2" and updated.redirect_uris == ("http://drone.lan/login",)
    assert gitea_client.delete_oauth_app(7) is True and gitea_client.delete_oauth_app(7) is False
    with pytest.raises(GiteaError, match="404"):
        gitea_client.update_oauth_app(OAuthApp(7, "drone", "cid-1", (), True), ["http://x/login"])


def test_repositories_are_created_read_and_listed_over_pages(gitea):
    gitea_client = client(gitea)
    gitea.page_cap = 2  # a Gitea with a small MAX_RESPONSE_ITEMS answers fewer than asked for
    assert [r["name"] for r in gitea_client.repositories()] == ["r1", "r2", "r3", "r4", "r5"]
    assert [q["page"] for _, path, q, _ in gitea.seen if path == "/api/v1/user/repos"] == [["1"], ["2"], ["3"]]
    created = gitea_client.create_repository("sample-app", auto_init=False)
    assert created["full_name"] == f"{ADMIN}/sample-app"
    assert gitea.bodies[-1] == {"name": "sample-app", "private": False, "auto_init": False,
                                "default_branch": "main", "description": ""}
    with pytest.raises(RepositoryExists):
        gitea_client.create_repository("sample-app")
    assert gitea_client.repository(f"{ADMIN}/sample-app")["id"] == 99
    assert gitea_client.repository(f"{ADMIN}/missing") is None
    with pytest.raises(GiteaError) as caught:
        gitea_client.repository("no-owner")
    assert "OWNER/NAME" in caught.value.hint


def test_pages_without_a_total_stop_at_an_empty_page(gitea):
    gitea.page_cap, gitea.total_header = 3, False
    assert len(client(gitea).repositories()) == 5
    assert [q["page"] for _, _, q, _ in gitea.seen] == [["1"], ["2"], ["3"]]


def test_hooks_are_created_active_listed_and_deleted(gitea):
    gitea_client = client(gitea)
    hook = gitea_client.create_hook(f"{ADMIN}/r1", "http://shim.lan/hook", "s3cret-signer")
    assert gitea.bodies[-1] == {"type": "gitea", "active": True, "events": list(DRONE_EVENTS), "config": {
        "url": "http://shim.lan/hook", "content_type": "json", "secret": "s3cret-signer"}}
    assert hook["active"] is True
    assert [h["config"]["url"] for h in gitea_client.hooks(f"{ADMIN}/r1")] == ["http://shim.lan/hook"]
    assert gitea_client.delete_hook(f"{ADMIN}/r1", hook["id"]) is True
    assert gitea_client.delete_hook(f"{ADMIN}/r1", hook["id"]) is False


def test_a_refused_hook_does_not_repeat_its_secret(gitea):
    with pytest.raises(GiteaError) as caught:
        client(gitea).create_hook(f"{ADMIN}/r1", "shim.lan/hook", "s3cret-signer")
    assert caught.value.status == 422 and "Invalid url" in caught.value.message
    assert "s3cret-signer" not in caught.value.message


def test_a_branch_is_read_with_its_head_and_a_missing_one_is_none(gitea):
    gitea_client = client(gitea)
    assert gitea_client.branch(f"{ADMIN}/r1", "main")["commit"]["id"] == "a" * 40
    assert gitea_client.branch(f"{ADMIN}/r1", "feature/x")["name"] == "feature/x"
    assert gitea.seen[-1][1] == f"/api/v1/repos/{ADMIN}/r1/branches/feature/x"  # the route takes the rest of the path
    assert gitea_client.branch(f"{ADMIN}/r1", "gone") is None


def test_a_file_is_read_and_a_missing_one_is_none(gitea):
    gitea_client = client(gitea)
    assert gitea_client.file_content(f"{ADMIN}/r1", ".drone.yml") == gitea.files[".drone.yml"]
    assert gitea_client.file_content(f"{ADMIN}/r1", ".drone.yml", ref="other") is None
    assert gitea_client.file_content(f"{ADMIN}/r1", "missing.yml") is None
    with pytest.raises(GiteaError, match="not a file"):
        gitea_client.file_content(f"{ADMIN}/r1", "src")


def test_5xx_and_429_are_retried_and_logged(gitea, caplog):
    gitea.failures = [503, 429]
    with caplog.at_level(logging.WARNING, "drone_kit.clients.retry"):
        assert client(gitea).current_user()["login"] == ADMIN
    assert len(gitea.seen) == 3
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "Gitea GET /api/v1/user answered 503", "Gitea GET /api/v1/user answered 429"]


def test_a_4xx_is_not_retried(gitea):
    gitea.failures = [404]
    assert client(gitea).repository(f"{ADMIN}/r1") is None
    assert len(gitea.seen) == 1


def test_no_answer_is_one_line_after_the_retries(gitea, caplog):
    gitea.server.stop()
    sleeps: list[float] = []
    with pytest.raises(GiteaError) as caught, caplog.at_level(logging.WARNING):
        client(gitea, sleep=sleeps.append).current_user()
    assert caught.value.message == f"Gitea at {gitea.url} is unreachable (ConnectionError) while trying to read " \
                                   "the signed-in user"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no traceback chain to show
    assert len(sleeps) == 2 and len(caplog.records) == 2


def test_refusals_name_what_failed_and_how_to_fix_it(gitea):
    with pytest.raises(GiteaError) as caught:
        client(gitea, token="wrong-token-value").current_user()
    assert caught.value.status == 401 and "access token" in caught.value.message
    assert "drone_kit wire" in caught.value.hint
    with pytest.raises(GiteaError) as caught:
        client(gitea, password="wrong-password-value").tokens()
    assert caught.value.status == 401 and f"password of {ADMIN}" in caught.value.message
    gitea.failures = [403]
    with pytest.raises(GiteaError) as caught:
        client(gitea).repositories()
    assert caught.value.status == 403 and "busy" in caught.value.message and "write:repository" in caught.value.hint


@pytest.mark.parametrize("call", [
    lambda c: c.current_user(), lambda c: c.tokens(), lambda c: c.create_token("old", ["all"]),
    lambda c: c.create_oauth_app("x", []), lambda c: c.delete_hook(f"{ADMIN}/r1", 5),
])
@pytest.mark.parametrize("failure", [401, 403, 404, 500, None])
def test_no_message_or_log_line_carries_a_secret(gitea, caplog, call, failure):
    """A Gitea that repeats the client's secrets in its errors: none reaches a message or a log."""
    token = TOKEN if failure else "x" * 40  # no failure set: the token itself is refused
    gitea.failures = [failure] * 3 if failure else []
    gitea.echo = f" {PASSWORD} {token}"
    with caplog.at_level(logging.DEBUG):
        try:
            call(client(gitea, token=token))
        except GiteaError as e:
            shown = f"{e.message} {e.hint}"
        else:
            shown = ""
    assert shown or failure in (404, None)  # a DELETE of nothing is no failure; tokens() signs in with Basic
    if failure in (403, 500):  # these carry Gitea's words: the echo came through, blanked
        assert "busy *** ***" in shown
    for secret in (PASSWORD, token):
        assert secret not in shown
        assert all(secret not in record.getMessage() for record in caplog.records)
