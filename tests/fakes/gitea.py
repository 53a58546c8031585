"""A fake Gitea 1.25 on 127.0.0.1 that refuses what Gitea refuses and answers as it answers: the
REST API (users, tokens and their scopes, OAuth2 applications, repositories, raw files, hooks),
the browser's OAuth2 login (login form, consent form, code, token), real git over smart HTTP
through `git http-backend`, and signed webhook deliveries after a push.

    with FakeGitea("gitea-admin", "s3cret") as gitea:
        requests.get(gitea.url + "/api/v1/user", auth=("gitea-admin", "s3cret"))

Like the Drone fake it can be taken down (`stop`) and brought back (`start`) on the same port.
Deliveries go out from one worker thread, in order, as Gitea's hook queue sends them;
`deliveries()` reads them back the way Gitea keeps its hook tasks (Gitea shows them only in the
web UI, not in its API). Each module names the Gitea sources it follows.
"""

from __future__ import annotations

import secrets as random_tokens
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from requests.structures import CaseInsensitiveDict

from tests.fakes import gitea_api, gitea_oauth
from tests.fakes.gitea_git import GitRepos, git_answer
from tests.fakes.gitea_hooks import Deliverer, Hook, HookTask
from tests.fakes.gitea_json import Answer, plain
from tests.fakes.http_server import FakeHandler, LoopbackServer


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class User:
    id: int
    login: str
    email: str
    password: str
    is_admin: bool = False
    full_name: str = ""
    must_change_password: bool = False
    is_org: bool = False
    members: set[str] = field(default_factory=set)  # an organization's users, who may create its repos
    created: str = field(default_factory=now_text)


@dataclass
class AccessToken:
    id: int
    user_id: int
    name: str
    secret: str
    scope: str


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool
    default_branch: str
    description: str = ""
    hooks: list[Hook] = field(default_factory=list)
    created: str = field(default_factory=now_text)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class FakeGitea:
    def __init__(self, admin: str, password: str, email: str | None = None,
                 allowed_host_list: str = "external") -> None:
        self.allowed_host_list = allowed_host_list  # [webhook] ALLOWED_HOST_LIST, `external` since 1.16
        self.deliver_timeout = 5.0  # [webhook] DELIVER_TIMEOUT
        self.routes: dict[str, tuple[str, int]] = {}  # "host:port" → (ip, port): see gitea_delivery.post
        self.lock = threading.RLock()
        self.ids: dict[str, int] = {}
        self.users_by_id: dict[int, User] = {}
        self.users_by_login: dict[str, User] = {}
        self.tokens: list[AccessToken] = []
        self.repos: dict[str, Repo] = {}  # by lower-case full name: Gitea's names are case-insensitive
        self.oauth = gitea_oauth.OAuthState()
        self.oauth_access_tokens = self.oauth.access_tokens
        self.hook_tasks: list[HookTask] = []
        self.csrf_secret = random_tokens.token_bytes(32)
        self._root = Path(tempfile.mkdtemp(prefix="fake-gitea-"))
        self.git = GitRepos(self._root)
        self.deliverer = Deliverer(self)
        self.admin = self.add_user(admin, password, email or f"{admin}@example.com", is_admin=True)
        self.server = LoopbackServer(_handler(self))

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def root_url(self) -> str:
        """ROOT_URL, with its trailing slash as Gitea keeps it (AppURL)."""
        return self.url + "/"

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def close(self) -> None:
        self.stop()
        self.deliverer.close()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> FakeGitea:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def next_id(self, kind: str) -> int:
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return self.ids[kind]

    # The store, for the routes and for tests that need a world before they start.

    def add_user(self, login: str, password: str, email: str, is_admin: bool = False,
                 must_change_password: bool = False) -> User:
        with self.lock:
            user = User(self.next_id("user"), login, email, password, is_admin,
                        must_change_password=must_change_password)
            self.users_by_id[user.id] = user
            self.users_by_login[login.lower()] = user
            return user

    def add_org(self, name: str, members: tuple[str, ...] = ()) -> User:
        """An organization (shares the user table, as in Gitea) whose members may create its repos."""
        org = self.add_user(name, random_tokens.token_hex(8), f"{name}@orgs.example.com")
        org.is_org = True
        org.members = {m.lower() for m in members}
        return org

    def user(self, login: str) -> User | None:
        return self.users_by_login.get(login.lower())

    def sign_in(self, login: str, password: str) -> User | None:
        """UserSignIn: by name, or by e-mail when the name has an @; organizations cannot sign in."""
        matches = [u for u in self.users_by_id.values()
                   if (u.email.lower() if "@" in login else u.login.lower()) == login.lower()]
        user = matches[0] if matches else None
        if user is None or user.is_org or not random_tokens.compare_digest(user.password, password):
            return None
        return user

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name.lower())

    def can_write(self, user: User | None, repo: Repo) -> bool:
        if user is None:
            return False
        owner = self.users_by_login[repo.owner.lower()]
        return user.is_admin or user.id == owner.id or user.login.lower() in owner.members

    def can_read(self, user: User | None, repo: Repo) -> bool:
        return not repo.private or self.can_write(user, repo)

    def deliveries(self, full_name: str | None = None, hook_id: int | None = None) -> list[HookTask]:
        """The hook tasks Gitea keeps (settings → webhooks → recent deliveries), oldest first."""
        with self.lock:
            return [t for t in self.hook_tasks
                    if full_name in (None, t.repo_full_name) and hook_id in (None, t.hook_id)]

    def wait_for_deliveries(self, count: int, timeout: float = 15.0) -> list[HookTask]:
        """Deliveries are sent after the push answers, as Gitea's queue sends them: wait for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [t for t in self.deliveries() if t.is_delivered]
            if len(done) >= count:
                return done
            time.sleep(0.02)
        raise AssertionError(f"{len(self.deliveries())} deliveries, not {count}, after {timeout} s")


def _handler(gitea: FakeGitea) -> type[FakeHandler]:
    class Handler(FakeHandler):
        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def do_DELETE(self) -> None:
            self._route("DELETE")

        def do_PUT(self) -> None:
            self._route("PUT")

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            headers = CaseInsensitiveDict(self.headers.items())
            body = self._body(headers)
            if url.path == "/api/v1" or url.path.startswith("/api/v1/"):
                answer = gitea_api.answer(gitea, method, url, headers, body)
            elif url.path.startswith(("/user/login", "/login/oauth/")):
                answer = gitea_oauth.answer(gitea, method, url, headers, body)
            elif gitea.git.is_git_path(url.path):
                answer = git_answer(gitea, method, url, headers, body, self.client_address[0])
            else:
                answer = plain(404, "404 page not found")
            self._write(answer)

        def _body(self, headers: CaseInsensitiveDict) -> bytes:
            if "chunked" not in (headers.get("Transfer-Encoding") or "").lower():
                return self.rfile.read(int(headers.get("Content-Length") or 0))
            chunks = []  # git sends a big push in chunks
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)

        def _write(self, answer: Answer) -> None:
            self.send_response(answer.status)
            typed = [("Content-Type", answer.content_type)] if answer.content_type else []
            for name, value in [*typed, *answer.headers, ("Content-Length", str(len(answer.body)))]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler
