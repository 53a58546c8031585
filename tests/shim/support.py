"""Running the shim, for real (uvicorn in a subprocess on loopback) or as an app in this process
(for Starlette's TestClient), and what Gitea and Drone send it: signed Gitea hooks, Drone build
events and their HTTP Signatures."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from drone_kit.shim.app import create_app
from drone_kit.shim.config import ShimConfig
from drone_kit.shim.signatures import body_digest, drone_signature, gitea_signature
from tests.paths import FIXTURES
from tests.stack.processes import answers, stop, wait_until_ready
from tests.stack.registry import free_port

GITEA = FIXTURES / "gitea"
SECRET = "drone-kit-test-secret"


class Clock:
    """A clock of the test's own, for code that takes its clock as an argument: it moves when told."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def running_shim(tmp: Path, drone_url: str, port: int | None = None, **options: str) -> Iterator[str]:
    port = port or free_port()
    env = {**os.environ, "DRONE_KIT_SHIM_HOOK_SECRET": SECRET, "DRONE_KIT_SHIM_DRONE_URL": drone_url,
           "DRONE_KIT_SHIM_OUTBOX": str(tmp / "outbox.sqlite"), "DRONE_KIT_SHIM_RETRY_MAX": "1",
           **{f"DRONE_KIT_SHIM_{k.upper()}": v for k, v in options.items()}}
    log = tmp / f"shim-{port}.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "drone_kit", "shim", "serve", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    try:
        wait_until_ready(process, lambda: answers(f"{url}/healthz"), "the shim", log, 30)
        yield url
    finally:
        if process.poll() is None:
            stop(process)


def shim_app(tmp: Path, drone_url: str, **options: object) -> ASGIApp:
    """The shim's app with its outbox in `tmp`; `options` are ShimConfig fields."""
    return create_app(ShimConfig(drone_url=drone_url, outbox=tmp / "outbox.sqlite", hook_secret=SECRET, **options))


def gitea_headers(body: bytes, event: str = "push", secret: str = SECRET, delivery: str | None = None) -> dict:
    """The headers Gitea sends with a delivery."""
    signature = gitea_signature(body, secret) if secret else ""
    delivery = delivery or str(uuid.uuid4())
    return {"Content-Type": "application/json", "X-Gitea-Delivery": delivery, "X-Gitea-Event": event,
            "X-Gitea-Event-Type": event, "X-Gitea-Signature": signature, "X-Gogs-Delivery": delivery,
            "X-Gogs-Event": event, "X-Gogs-Signature": signature, "X-GitHub-Delivery": delivery,
            "X-GitHub-Event": event, "X-Hub-Signature-256": f"sha256={signature}"}


def hook_answer(answer: Any) -> tuple[int, bool]:
    """(the stored hook's id, whether it was a redelivery) from the shim's 202 to a hook (a
    response of requests or of Starlette's TestClient)."""
    assert answer.status_code == 202 and answer.content == b"", (answer.status_code, answer.text)
    duplicate = answer.headers["x-drone-kit-duplicate"]
    assert duplicate in ("true", "false"), duplicate
    return int(answer.headers["x-drone-kit-hook-id"]), duplicate == "true"


def push_body(repo: str, n: int) -> bytes:
    """A push of commit number n to repo, shaped like push-branch.json."""
    payload = json.loads((GITEA / "push-branch.json").read_text())
    payload["repository"]["full_name"] = repo
    owner, payload["repository"]["name"] = repo.split("/")
    payload["repository"]["owner"]["login"] = payload["repository"]["owner"]["username"] = owner
    payload["after"] = f"{n:040x}"
    return json.dumps(payload, indent=2).encode()


def drone_build_event(status: str = "success", steps: tuple[tuple[str, str], ...] = (("clone", "drone/git"),),
                      **build: object) -> dict:
    """Drone's global webhook for a finished build of our-task/app (its fields as Drone 2 sends
    them); `build` overrides fields of the build."""
    stage_steps = [{"id": 60 + n, "step_id": 7, "number": n, "name": name, "status": status, "exit_code": 0,
                    "started": 1700000030, "stopped": 1700000080, "image": image}
                   for n, (name, image) in enumerate(steps, 1)]
    return {
        "event": "build", "action": "updated",
        "repo": {"id": 3, "uid": "12", "user_id": 1, "namespace": "our-task", "name": "app", "slug": "our-task/app",
                 "scm": "", "git_http_url": "http://gitea:3000/our-task/app.git", "default_branch": "main",
                 "visibility": "private", "active": True, "config_path": ".drone.yml", "trusted": True},
        "build": {"id": 41, "repo_id": 3, "trigger": "@hook", "number": 9, "status": status, "event": "push",
                  "action": "", "link": "http://gitea:3000/our-task/app/compare/0a1b2c3d...9f8e7d6c",
                  "timestamp": 1699999400, "title": "", "message": "Fix the readiness probe\n",
                  "before": "0a1b2c3d" * 5, "after": "9f8e7d6c" * 5, "ref": "refs/heads/main",
                  "source_repo": "", "source": "main", "target": "main", "author_login": "alice",
                  "author_name": "Alice", "author_email": "alice@example.com", "sender": "alice",
                  "started": 1700000000, "finished": 1700000090, "created": 1699999990, "updated": 1700000090,
                  "version": 4,
                  "stages": [{"id": 7, "repo_id": 3, "build_id": 41, "number": 1, "name": "default",
                              "kind": "pipeline", "type": "kubernetes", "status": status, "os": "linux",
                              "arch": "arm64", "started": 1700000001, "stopped": 1700000090,
                              "steps": stage_steps}],
                  **build},
    }


def drone_signed_headers(body: bytes, secret: str) -> dict:
    """The headers Drone's webhook signs a body with: Date, Digest and the HTTP Signature over both."""
    headers = {"Date": format_datetime(datetime.now(UTC), usegmt=True), "Digest": body_digest(body)}
    signature = drone_signature(secret, {k.lower(): v for k, v in headers.items()}, ["date", "digest"])
    headers["Signature"] = f'keyId="hmac-key",algorithm="hmac-sha256",signature="{signature}",headers="date digest"'
    return headers


def signed_drone_event(payload: dict, secret: str) -> tuple[bytes, dict]:
    """A Drone webhook delivery: the JSON body and its signed headers."""
    body = json.dumps(payload).encode()
    return body, drone_signed_headers(body, secret)


def wait_for(condition, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
