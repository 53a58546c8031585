"""Running the shim for real (uvicorn in a subprocess on loopback) and sending it Gitea hooks."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

from drone_kit.shim.signatures import gitea_signature
from tests.paths import FIXTURES
from tests.stack.processes import answers, stop, wait_until_ready
from tests.stack.registry import free_port

GITEA = FIXTURES / "gitea"
SECRET = "drone-kit-test-secret"


@contextlib.contextmanager
def running_shim(tmp: Path, drone_url: str, port: int | None = None, **options: str) -> Iterator[str]:
    port = port or free_port()
    env = {**os.environ, "DRONE_KIT_SHIM_HOOK_SECRET": SECRET, "DRONE_KIT_SHIM_DRONE_URL": drone_url,
           "DRONE_KIT_SHIM_OUTBOX": str(tmp / "outbox.sqlite"), "DRONE_KIT_SHIM_RETRY_MAX": "1",
           **{f"DRONE_KIT_SHIM_{k.upper()}": v for k, v in options.items()}}
    log = tmp / f"shim-{port}.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen([sys.executable, "-m", "drone_kit", "shim", "serve", "--listen", f"127.0.0.1:{port}"],
                                   env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    try:
        wait_until_ready(process, lambda: answers(f"{url}/healthz"), "the shim", log, 30)
        yield url
    finally:
        if process.poll() is None:
            stop(process)


def gitea_headers(body: bytes, event: str = "push", secret: str = SECRET, delivery: str | None = None) -> dict:
    """The headers Gitea sends with a delivery."""
    signature = gitea_signature(body, secret) if secret else ""
    delivery = delivery or str(uuid.uuid4())
    return {"Content-Type": "application/json", "X-Gitea-Delivery": delivery, "X-Gitea-Event": event,
            "X-Gitea-Event-Type": event, "X-Gitea-Signature": signature, "X-Gogs-Delivery": delivery,
            "X-Gogs-Event": event, "X-Gogs-Signature": signature, "X-GitHub-Delivery": delivery,
            "X-GitHub-Event": event, "X-Hub-Signature-256": f"sha256={signature}"}


def push_body(repo: str, n: int) -> bytes:
    """A push of commit number n to repo, shaped like push-branch.json."""
    payload = json.loads((GITEA / "push-branch.json").read_text())
    payload["repository"]["full_name"] = repo
    payload["repository"]["owner"]["login"], payload["repository"]["name"] = repo.split("/")
    payload["after"] = f"{n:040x}"
    return json.dumps(payload, indent=2).encode()


def wait_for(condition, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
