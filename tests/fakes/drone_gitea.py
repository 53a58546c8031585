"""A fake Drone 2 that works with a Gitea as Drone does: its configuration read at start, the
OAuth2 login through Gitea, the account sync, activation that registers a hook in Gitea, `/hook`
turning a signed push into a build, and the REST API to read builds. A real HTTP server on
127.0.0.1; its database outlives restarts, as Drone's does on a volume.

    drone = DroneOnGitea()                        # a port is chosen; nothing answers yet
    drone.start(DroneConfig(gitea.url, client_id, client_secret, server_host=drone.host,
                            user_create=f"username:{admin},admin:true,token:{token}"))
    drone.on_build = lambda build, repo: ...      # called for each pending build, in a thread
    drone.restart(new_config)                     # a Deployment rollout: same port, same database

Each module names the Drone, go-login and go-scm sources it follows.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from requests.structures import CaseInsensitiveDict

from tests.fakes.drone_answers import Answer, healthy, method_not_allowed
from tests.fakes.drone_gitea_api import api_answer
from tests.fakes.drone_gitea_config import DroneConfig, DroneStartError
from tests.fakes.drone_gitea_hook import hook_answer
from tests.fakes.drone_gitea_login import login_answer
from tests.fakes.drone_gitea_scm import GiteaScm
from tests.fakes.drone_gitea_store import DroneRepo, DroneStore, DroneUser, uniuri
from tests.fakes.drone_gitea_web import WebAnswer, cookies_of, index_page
from tests.fakes.http_server import FakeHandler, LoopbackServer

BuildHook = Callable[[dict, dict], None]

__all__ = ["BuildHook", "DroneConfig", "DroneOnGitea", "DroneStartError"]


class DroneOnGitea:
    def __init__(self, config: DroneConfig | None = None) -> None:
        self.store = DroneStore()
        self.on_build: BuildHook | None = None  # (build, repository JSON) for each pending build
        self.yaml_retry_wait = 0.0  # Drone waits 15 s between its three reads of .drone.yml
        self.logins: list[str] = []  # users who logged in through Gitea, in order
        self.syncs: list[str] = []  # users whose repositories were synced, in order
        self._config: DroneConfig | None = None
        self.session_secret = ""
        self.server = LoopbackServer(_handler(self))
        self.server.stop()  # the port is kept; Drone starts when it is given its configuration
        if config is not None:
            self.start(config)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`, for DRONE_SERVER_HOST or DRONE_SERVER_PROXY_HOST."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def config(self) -> DroneConfig:
        if self._config is None:
            raise DroneStartError("Drone has not been started")
        return self._config

    @property
    def scm(self) -> GiteaScm:
        return GiteaScm(self.config)

    @property
    def running(self) -> bool:
        return self.server.running

    def start(self, config: DroneConfig) -> None:
        """Drone's start: DroneStartError (and nothing listening) where Drone would exit."""
        config.check()
        with self.store.lock:
            self._config = config
            self.session_secret = config.cookie_secret or uniuri()
            self.store.bootstrap(config.seeded_user)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def restart(self, config: DroneConfig | None = None) -> None:
        """A rollout: down, then up on the same port with this configuration (or the same one)."""
        self.stop()
        self.start(config or self.config)

    def __enter__(self) -> DroneOnGitea:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # What a test reads and sets.

    def user(self, login: str) -> DroneUser | None:
        with self.store.lock:
            return self.store.user_by_login(login)

    def repo(self, slug: str) -> DroneRepo | None:
        namespace, _, name = slug.partition("/")
        with self.store.lock:
            return self.store.repo_by_name(namespace, name)

    def builds(self, slug: str) -> list[dict]:
        """The repository's builds, oldest first (copies)."""
        repo = self.repo(slug)
        with self.store.lock:
            return copy.deepcopy(repo.builds) if repo else []

    def build(self, slug: str, number: int) -> dict:
        return next(b for b in self.builds(slug) if b["number"] == number)

    def pipeline(self, slug: str, number: int) -> str:
        """The `.drone.yml` the build was triggered with."""
        repo = self.repo(slug)
        return repo.pipelines[number] if repo else ""

    def update_build(self, slug: str, number: int, **fields: object) -> dict:
        """Set a build's status, stages (with their steps), started, finished… as a runner reports them."""
        repo = self.repo(slug)
        with self.store.lock:
            build = next(b for b in (repo.builds if repo else []) if b["number"] == number)
            build.update(fields, updated=int(time.time()), version=build["version"] + 1)
            return copy.deepcopy(build)

    def wait_for_builds(self, slug: str, count: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.builds(slug)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.builds(slug))} builds of {slug}, not {count}, after {timeout} s")


def _handler(drone: DroneOnGitea) -> type[FakeHandler]:
    class Handler(FakeHandler):
        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def do_DELETE(self) -> None:
            self._route("DELETE")

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = CaseInsensitiveDict(self.headers.items())
            path = url.path.rstrip("/") or "/"  # chi's StripSlashes
            answer: Answer | WebAnswer
            if path == "/healthz":
                answer = healthy()
            elif path == "/hook":
                answer = (hook_answer(drone, headers.get("X-Gitea-Event") or "", body, url.query, headers)
                          if method == "POST" else method_not_allowed())
            elif path == "/login":
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                if method == "POST" and "form" in (headers.get("Content-Type") or ""):
                    params |= {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
                answer = login_answer(drone, method, params, cookies_of(headers.get("Cookie") or ""))
            elif path == "/api" or path.startswith("/api/"):
                answer = api_answer(drone, method, path, parse_qs(url.query), headers, body)
            else:
                answer = index_page()  # chi's NotFound is the UI, whatever the method
            self._write(answer)

        def _write(self, answer: Answer | WebAnswer) -> None:
            self.send_response(answer.status)
            extra = answer.headers if isinstance(answer, WebAnswer) else []
            typed = [("Content-Type", answer.content_type)] if answer.content_type else []
            for name, value in [*typed, *extra, ("Content-Length", str(len(answer.body)))]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler
