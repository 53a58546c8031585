"""Delivering the outbox to Drone: in order per repository, retrying what a retry can fix.

Drone's answers (go-scm / drone handler/api): 2xx → delivered; 5xx, 429 or no answer → retry with
exponential backoff and jitter; 400 "Cannot find repository" → retry after asking Drone to sync
repositories and activate this one when auto_activate is on, else failed; any other 4xx → failed, with Drone's answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from drone_kit.clients.drone import DroneClient, DroneUnavailable
from drone_kit.clients.retry import backoff_delay, transient_status
from drone_kit.shim.outbox import Hook, Outbox

log = logging.getLogger(__name__)


def delivery_outcome(status: int | None, body: str, auto_activate: bool) -> str:
    """Pure: "delivered", "retry", "sync" (ask Drone to sync repos, then retry) or "failed"."""
    if status is None or transient_status(status):
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    if "cannot find repository" in body.lower():
        return "sync" if auto_activate else "failed"
    return "failed"


class Relay:
    """Delivers due hooks one at a time; `on_result` hears of every attempt (for the metrics)."""

    def __init__(self, outbox: Outbox, drone: DroneClient, auto_activate: bool = False,
                 retry_base: float = 1.0, retry_max: float = 60.0,
                 on_result: Callable[[Hook, str, float], None] = lambda hook, outcome, now: None,
                 clock: Callable[[], float] = time.time) -> None:
        self.outbox, self.drone, self.auto_activate = outbox, drone, auto_activate
        self.retry_base, self.retry_max = retry_base, retry_max
        self.on_result, self.clock = on_result, clock

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
        status, text = self.drone.deliver_hook(hook.query, hook.headers, hook.body)
        outcome = delivery_outcome(status, text, self.auto_activate)
        now = self.clock()
        if outcome == "delivered":
            self.outbox.delivered(hook.id, now)
        elif outcome == "failed":
            self.outbox.failed(hook.id, f"HTTP {status}: {text}")
            log.warning("hook %s (%s, %s) failed: HTTP %s: %s", hook.id, hook.repo, hook.event, status, text.strip())
        else:
            if outcome == "sync":
                self._activate(hook.repo)
            delay = backoff_delay(hook.attempts + 1, self.retry_base, self.retry_max)
            self.outbox.retry(hook.id, now + delay, text if status is None else f"HTTP {status}: {text}")
        self.on_result(hook, outcome, now)
        return outcome

    def _activate(self, repo: str) -> None:
        """Ask Drone to sync its repository list from Gitea, then to activate `repo`."""
        if not self.drone.token:
            log.warning("cannot activate %s: no Drone token (--drone-token)", repo)
            return
        self.drone.sync_repositories()
        self.drone.activate(repo)

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
        if not self.drone.token or hook.event != "push":
            return False
        try:
            payload = json.loads(hook.body)
            builds = self.drone.builds(hook.repo)
        except (DroneUnavailable, ValueError):
            return False
        return any(b.get("after") == payload.get("after") and b.get("ref") == payload.get("ref") for b in builds)
