"""A fake Drone server: `/hook` answering as Drone does (go-scm's Gitea webhook parsing, the
handler's 200/400 answers), the repository builds API, and repository sync. Can be taken down
and brought back on the same port, made slow, or made not to know a repository."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlparse

from drone_kit.shim.signatures import gitea_hook_authentic
from tests.fakes.http_server import FakeHandler, LoopbackServer


class FakeDrone:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.deliveries: list[dict] = []  # what /hook accepted, in order
        self.builds: dict[str, list[dict]] = {}
        self.unknown_repos: set[str] = set()
        self.syncs = 0
        self.activated: list[str] = []
        self.delay = 0.0
        self.lock = threading.Lock()
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


def _handler(drone: FakeDrone):
    class Handler(FakeHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/healthz":
                return self.answer(200, {})
            parts = url.path.strip("/").split("/")
            if parts[:2] == ["api", "repos"] and parts[-1] == "builds":
                with drone.lock:
                    return self.answer(200, list(reversed(drone.builds.get("/".join(parts[2:4]), []))))
            self.answer(404, {"message": "not found"})

        def do_POST(self) -> None:
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/api/user/repos":
                with drone.lock:
                    drone.syncs += 1
                return self.answer(200, [])
            if url.path.startswith("/api/repos/"):  # activation: Drone then knows the repository
                repo = url.path.removeprefix("/api/repos/")
                with drone.lock:
                    drone.activated.append(repo)
                    drone.unknown_repos.discard(repo)
                return self.answer(200, {"slug": repo, "active": True})
            if url.path != "/hook":
                return self.answer(404, {"message": "not found"})
            time.sleep(drone.delay)
            event = self.headers.get("X-Gitea-Event", "")
            if event not in ("push", "create", "delete", "issues", "issue_comment", "pull_request"):
                return self.answer(200, {})
            payload = json.loads(body)
            repo = payload["repository"]["full_name"]
            with drone.lock:
                if repo in drone.unknown_repos:
                    return self.answer(400, {"message": "Cannot find repository"})
            secret = parse_qs(url.query).get("secret", [""])[0]
            if not gitea_hook_authentic(body, self.headers.get("X-Gitea-Signature", ""), secret, drone.secret):
                return self.answer(400, {"message": "Invalid webhook signature"})
            with drone.lock:
                drone.deliveries.append({"delivery": self.headers.get("X-Gitea-Delivery", ""), "repo": repo,
                                         "event": event, "body": body, "query": url.query,
                                         "headers": dict(self.headers)})
                if event == "push":
                    build = {"number": len(drone.builds.get(repo, [])) + 1, "after": payload.get("after"),
                             "ref": payload.get("ref")}
                    drone.builds.setdefault(repo, []).append(build)
                    return self.answer(200, build)
            self.answer(200, None)

    return Handler
