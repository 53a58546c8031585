"""A fake Drone 2 server that checks what Drone checks and answers as Drone answers: `/hook` for
Gitea's hooks, the REST API the shim calls (token required), and `/healthz`. It can be taken down
and brought back on the same port, made slow, broken for every hook or for some commits, and
made not to know a repository, or to know it without building for it.

What `/hook` does, in Drone's order (handler/web/hook.go on harness/harness branch `drone`, with
service/hook/parser/parse.go and go-scm's Gitea parser; see tests/fakes/drone_hook.py):
1. an event Drone does not parse → 200, no body, before anything is looked up;
2. a body it cannot decode → 400 with the decoding error;
3. a repository without a signer (not synced, or synced but never activated) → 400
   "Cannot find repository": the parser's secret lookup fails before any signature is checked;
4. a bad signature → 400 "Invalid webhook signature";
5. what parses to no hook (a push to the zero commit, a created branch or tag, a deleted tag,
   issues, pull request actions other than opened/synchronized/closed) → 200, no body;
6. an inactive repository → 200, no body, no build;
7. a deleted branch, a closed pull request → 204;
8. the trigger: a skip directive → 200 `null`; a configuration Drone cannot parse → 200 with a
   build in status "error" (trigger.go createBuildError); a trigger error (no `.drone.yml`, Gitea
   refusing Drone's token) → writeError's 500 `{"message": …}`; else 200 with the build.

Every activated repository has the same signer, `secret`, as with Drone's
DRONE_FEATURE_SERVER_PROXY_SECRET (repos/enable.go); without it each activation draws a new one.
"""

from __future__ import annotations

import secrets as random_tokens
import threading
import time
from urllib.parse import parse_qs, urlparse

from requests.structures import CaseInsensitiveDict

from tests.fakes import drone_hook
from tests.fakes.drone_answers import (
    Answer,
    error_answer,
    healthy,
    json_answer,
    method_not_allowed,
    nothing,
    route_not_found,
)
from tests.fakes.drone_api import api_answer
from tests.fakes.http_server import FakeHandler, LoopbackServer


class FakeDrone:
    def __init__(self, secret: str, token: str | None = None) -> None:
        self.secret = secret  # the signer of every activated repository
        self.token = token or random_tokens.token_hex(16)  # the admin's API token
        self.deliveries: list[dict] = []  # hooks Drone authenticated and accepted (2xx), in order
        self.builds: dict[str, list[dict]] = {}  # by repository, oldest first
        # Every repository is known and active unless it is in one of these sets:
        self.unknown_repos: set[str] = set()  # not in Drone's database until a sync finds them
        self.never_activated: set[str] = set()  # synced, never activated: no signer yet
        self.inactive_repos: set[str] = set()  # activated once, then disabled: the signer is kept
        self.syncs = 0
        self.activated: list[str] = []
        self.delay = 0.0  # seconds before a hook is answered (Drone triggers synchronously)
        self.fail_all: tuple[int, str] | None = None  # every hook answered (status, message)
        self.fail_commits: dict[str, tuple[int, str]] = {}  # a push's `after` → trigger error
        self.yaml_errors: dict[str, str] = {}  # a push's `after` → why its .drone.yml does not parse
        self.lock = threading.Lock()
        self._last_build_id = 0
        self.server = LoopbackServer(_handler(self))

    @property
    def url(self) -> str:
        return self.server.url

    def up(self) -> None:
        self.server.start()

    def down(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeDrone:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    def delivered_ids(self, event: str | None = None) -> list[str]:
        with self.lock:
            return [d["delivery"] for d in self.deliveries if event in (None, d["event"])]

    # The repository store; callers hold the lock.

    def repo_state(self, slug: str) -> str:
        if slug in self.unknown_repos:
            return "unknown"
        if slug in self.never_activated:
            return "never-activated"
        return "inactive" if slug in self.inactive_repos else "active"

    def sync(self) -> None:
        """Drone reads the user's repositories from Gitea: the ones it did not have become known."""
        self.syncs += 1
        self.never_activated |= self.unknown_repos
        self.unknown_repos.clear()

    def activate(self, slug: str) -> None:
        self.never_activated.discard(slug)
        self.inactive_repos.discard(slug)
        self.activated.append(slug)

    def deactivate(self, slug: str) -> None:
        if self.repo_state(slug) == "active":
            self.inactive_repos.add(slug)

    def repo_json(self, slug: str) -> dict:
        namespace, _, name = slug.partition("/")
        return {"namespace": namespace, "name": name, "slug": slug, "scm": "", "default_branch": "main",
                "private": True, "visibility": "private", "active": self.repo_state(slug) == "active",
                "config_path": ".drone.yml", "trusted": False, "protected": False, "timeout": 60,
                "counter": len(self.builds.get(slug, [])), "archived": False}

    def known_repos(self) -> list[dict]:
        seen = {*self.builds, *self.never_activated, *self.inactive_repos, *self.activated}
        return [self.repo_json(slug) for slug in sorted(seen) if self.repo_state(slug) != "unknown"]

    # /hook

    def hook_answer(self, event: str, body: bytes, query: str, headers: CaseInsensitiveDict) -> Answer:
        """Drone's answer to a hook, recorded in `deliveries` when it is accepted."""
        time.sleep(self.delay)
        with self.lock:
            if self.fail_all is not None:
                return error_answer(*self.fail_all)
            try:
                reading = drone_hook.read(event, body)
            except drone_hook.NotAHook as e:
                return error_answer(400, str(e))
            if reading is None:
                return nothing()
            if self.repo_state(reading.slug) in ("unknown", "never-activated"):
                return error_answer(400, "Cannot find repository")
            query_secret = (parse_qs(query).get("secret") or [""])[0]
            if not drone_hook.signed_by(self.secret, body, headers.get("X-Gitea-Signature") or "", query_secret):
                return error_answer(400, "Invalid webhook signature")
            answer = self._accept(reading)
            if 200 <= answer.status < 300:
                self.deliveries.append({"delivery": headers.get("X-Gitea-Delivery") or "", "repo": reading.slug,
                                        "event": event, "body": body, "query": query, "headers": headers,
                                        "status": answer.status})
            return answer

    def _accept(self, reading: drone_hook.Reading) -> Answer:
        if reading.kind == "ignored" or self.repo_state(reading.slug) == "inactive":
            return nothing()
        if reading.kind in ("branch-deleted", "pull-closed"):
            return nothing(204)
        if reading.skip:
            return json_answer(200, None)
        after = reading.build["after"]
        if after in self.fail_commits:
            return error_answer(*self.fail_commits[after])
        build = self._new_build(reading.slug, reading.build, self.yaml_errors.get(after))
        self.builds.setdefault(reading.slug, []).append(build)
        return json_answer(200, build)

    def _new_build(self, slug: str, fields: dict, yaml_error: str | None) -> dict:
        """A build as trigger.go records it: pending, or in error at once when its configuration
        does not parse."""
        self._last_build_id += 1
        now = int(time.time())
        build = {"id": self._last_build_id, "trigger": "@hook", "number": len(self.builds.get(slug, [])) + 1,
                 "status": "pending", "action": "", "link": "", "timestamp": now, "message": "", "before": "",
                 "source_repo": "", "author_login": "", "author_name": "", "author_email": "",
                 "author_avatar": "", "sender": "", **fields,
                 "started": 0, "finished": 0, "created": now, "updated": now, "version": 1}
        if yaml_error is not None:
            build.update(status="error", error=yaml_error, started=now, finished=now)
        return build


def _handler(drone: FakeDrone) -> type[FakeHandler]:
    class Handler(FakeHandler):
        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = CaseInsensitiveDict(self.headers.items())  # names are case-insensitive in HTTP
            if url.path.rstrip("/") == "/healthz":
                answer = healthy()
            elif url.path.rstrip("/") == "/hook":
                answer = (drone.hook_answer(headers.get("X-Gitea-Event") or "", body, url.query, headers)
                          if method == "POST" else method_not_allowed())
            elif url.path == "/api" or url.path.startswith("/api/"):
                with drone.lock:
                    answer = api_answer(drone, method, url.path, parse_qs(url.query), headers)
            else:
                answer = route_not_found()
            self.answer(answer.status, answer.body, answer.content_type)

    return Handler
