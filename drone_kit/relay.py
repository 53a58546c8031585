"""Delivering the outbox to Drone: in order per repository, retrying what a retry can fix.

Drone's answers (go-scm / drone handler/api): 2xx → delivered; 5xx, 429 or no answer → retry with
exponential backoff and jitter; 400 "Cannot find repository" → retry after asking Drone to sync
repositories and activate this one when auto_activate is on, else failed; any other 4xx → failed, with Drone's answer.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Callable

import requests

from drone_kit.outbox import Hook, Outbox

FORWARDED = ("content-type", "x-gitea-delivery", "x-gitea-event", "x-gitea-event-type", "x-gitea-signature",
             "x-gogs-delivery", "x-gogs-event", "x-gogs-signature", "x-github-delivery", "x-github-event",
             "x-hub-signature", "x-hub-signature-256", "authorization")


def delivery_outcome(status: int | None, body: str, auto_activate: bool) -> str:
    """Pure: "delivered", "retry", "sync" (ask Drone to sync repos, then retry) or "failed"."""
    if status is None or status >= 500 or status == 429:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    if "cannot find repository" in body.lower():
        return "sync" if auto_activate else "failed"
    return "failed"


def backoff(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Pure: seconds before the next try: exponential, capped, with full jitter in its upper half."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + rand() * ceiling / 2


class Relay:
    def __init__(self, outbox: Outbox, drone_url: str, drone_token: str = "", auto_activate: bool = False,
                 retry_base: float = 1.0, retry_max: float = 60.0, timeout: float = 30.0,
                 on_result: Callable[[Hook, str, float], None] = lambda hook, outcome, now: None,
                 log: Callable[[str], None] = print, clock: Callable[[], float] = time.time) -> None:
        self.outbox, self.drone_url, self.drone_token = outbox, drone_url.rstrip("/"), drone_token
        self.auto_activate, self.retry_base, self.retry_max, self.timeout = auto_activate, retry_base, retry_max, timeout
        self.on_result, self.log, self.clock = on_result, log, clock
        self.session = requests.Session()

    def run(self, stop: threading.Event) -> None:
        """Deliver until stopped; a hook left 'sending' by a crash is first checked against Drone."""
        self._recover()
        while not stop.is_set():
            due = self.outbox.due(self.clock())
            for hook in due:
                self.deliver(hook)
            if not due:
                stop.wait(0.05)

    def deliver(self, hook: Hook) -> str:
        self.outbox.sending(hook.id)
        headers = {k: v for k, v in hook.headers.items() if k.lower() in FORWARDED}
        url = f"{self.drone_url}/hook" + (f"?{hook.query}" if hook.query else "")
        try:
            response = self.session.post(url, data=hook.body, headers=headers, timeout=self.timeout)
            status, text = response.status_code, response.text[:500]
        except requests.RequestException as e:
            status, text = None, f"Drone unreachable: {type(e).__name__}"
        outcome = delivery_outcome(status, text, self.auto_activate)
        now = self.clock()
        if outcome == "delivered":
            self.outbox.delivered(hook.id, now)
        elif outcome == "failed":
            self.outbox.failed(hook.id, f"HTTP {status}: {text}")
            self.log(f"hook {hook.id} ({hook.repo}, {hook.event}) failed: HTTP {status}: {text.strip()}")
        else:
            if outcome == "sync":
                self._activate(hook.repo)
            delay = backoff(hook.attempts + 1, self.retry_base, self.retry_max)
            self.outbox.retry(hook.id, now + delay, text if status is None else f"HTTP {status}: {text}")
        self.on_result(hook, outcome, now)
        return outcome

    def _activate(self, repo: str) -> None:
        """Ask Drone to sync its repository list from Gitea, then to activate `repo`."""
        if not self.drone_token:
            self.log(f"cannot activate {repo}: no Drone token (--drone-token)")
            return
        headers = {"Authorization": f"Bearer {self.drone_token}"}
        for method, path in (("POST", "/api/user/repos"), ("POST", f"/api/repos/{repo}")):
            try:
                answer = self.session.request(method, f"{self.drone_url}{path}", headers=headers, timeout=self.timeout)
                if answer.status_code >= 400:
                    self.log(f"Drone answered {answer.status_code} to {method} {path}: {answer.text[:200].strip()}")
            except requests.RequestException as e:
                self.log(f"{method} {path} to Drone failed: {type(e).__name__}")

    def _recover(self) -> None:
        """A hook that was being sent when the shim stopped may have reached Drone: if Drone shows
        a build of its commit, it did; otherwise it is sent again."""
        for hook in self.outbox.recent(200):
            if hook.status != "sending":
                continue
            if self._drone_has_build_for(hook):
                self.outbox.delivered(hook.id, self.clock())
            else:
                self.outbox.retry(hook.id, self.clock(), "the shim stopped while sending")

    def _drone_has_build_for(self, hook: Hook) -> bool:
        if not self.drone_token or hook.event != "push":
            return False
        try:
            payload = json.loads(hook.body)
            builds = self.session.get(f"{self.drone_url}/api/repos/{hook.repo}/builds", params={"per_page": 50},
                                      headers={"Authorization": f"Bearer {self.drone_token}"}, timeout=self.timeout).json()
            return any(b.get("after") == payload.get("after") and b.get("ref") == payload.get("ref") for b in builds)
        except (requests.RequestException, ValueError, AttributeError):
            return False
