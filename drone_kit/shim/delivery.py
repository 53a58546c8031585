"""Delivering the outbox to Drone: in order per repository, retrying what a retry can fix, for a
bounded time (see `decisions` for what each answer of Drone's means). A hook is sent with a
signature made from the configured hook secret: the outbox never holds one."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from drone_kit.clients.drone import DroneClient, DroneUnavailable
from drone_kit.clients.retry import backoff_delay
from drone_kit.shim.decisions import RetryLimits, build_of, delivery_outcome, expects_build, gives_up
from drone_kit.shim.outbox import Hook, Outbox
from drone_kit.shim.signatures import gitea_signature

log = logging.getLogger(__name__)

PRUNE_EVERY = 60.0
RECOVERY_SKEW = 60.0  # Drone's clock against ours, when paging back through its builds
RECOVERY_PAGES = 50
DEFAULT_LIMITS = RetryLimits()


class Relay:
    """Delivers due hooks one at a time; `on_result` hears of every attempt (for the metrics)."""

    def __init__(self, outbox: Outbox, drone: DroneClient, hook_secret: str, auto_activate: bool = False,
                 retry_base: float = 1.0, retry_max: float = 60.0, limits: RetryLimits = DEFAULT_LIMITS,
                 retention: float = 7 * 24 * 3600.0,
                 on_result: Callable[[Hook, str, float], None] = lambda hook, outcome, now: None,
                 clock: Callable[[], float] = time.time) -> None:
        self.outbox, self.drone, self.hook_secret, self.auto_activate = outbox, drone, hook_secret, auto_activate
        self.retry_base, self.retry_max, self.limits, self.retention = retry_base, retry_max, limits, retention
        self.on_result, self.clock = on_result, clock

    def run(self, stop: threading.Event) -> None:
        """Deliver until stopped; hooks left 'sending' by a crash are first checked against Drone."""
        self.recover()
        pruned = 0.0
        while not stop.is_set():
            due = self.outbox.due(self.clock())
            for hook in due:
                self.deliver(hook)
            if self.clock() - pruned >= PRUNE_EVERY:
                pruned = self.clock()
                self.outbox.prune(pruned - self.retention)
            if not due:
                stop.wait(0.05)

    def deliver(self, hook: Hook) -> str:
        self.outbox.sending(hook.id, self.clock())
        headers = {**hook.headers, "x-gitea-signature": gitea_signature(hook.body, self.hook_secret)}
        status, text = self.drone.deliver_hook(hook.query, headers, hook.body)
        build_expected = expects_build(hook.event, hook.body)
        outcome = delivery_outcome(status, text, self.auto_activate, build_expected)
        inactive = "disabled"
        if outcome == "not-found":
            outcome, inactive = ("inactive", "not activated") if self._known_but_inactive(hook) else ("failed", "")
        now, answer = self.clock(), text if status is None else f"HTTP {status}: {text}"
        if outcome == "delivered":
            self.outbox.delivered(hook.id, now)
        elif outcome == "inactive":
            self.outbox.ignored(hook.id, now, f"the repository is {inactive} in Drone (auto_activate is off)")
            log.warning("hook %s (%s, %s) ignored by Drone: the repository is %s there", hook.id, hook.repo,
                        hook.event, inactive)
        elif outcome == "failed" or gives_up(hook.attempts + 1, hook.first_attempt or now, now, self.limits):
            outcome = "failed"
            self.outbox.failed(hook.id, now, answer)
            log.warning("hook %s (%s, %s) failed after %d attempts: %s", hook.id, hook.repo, hook.event,
                        hook.attempts + 1, answer.strip())
        else:
            if outcome in ("sync", "activate"):
                self._activate(hook.repo, sync=outcome == "sync")
            delay = backoff_delay(hook.attempts + 1, self.retry_base, self.retry_max)
            self.outbox.retry(hook.id, now + delay, answer)
            log.info("hook %s (%s, %s): attempt %d: %s; next in %.1fs", hook.id, hook.repo, hook.event,
                     hook.attempts + 1, answer.strip()[:200], delay)
        self.on_result(hook, outcome, now)
        return outcome

    def _activate(self, repo: str, sync: bool) -> None:
        """Ask Drone to sync its repository list from Gitea (when it does not know `repo`), then to
        activate `repo`."""
        if not self.drone.token:
            log.warning("cannot activate %s: no Drone token (--drone-token)", repo)
            return
        if sync:
            self.drone.sync_repositories()
        self.drone.activate(repo)

    def _known_but_inactive(self, hook: Hook) -> bool:
        """Whether Drone knows the hook's repository and has not activated it: it answers a hook for
        one the same as for a repository it does not know. Without a token, or when Drone cannot
        say, it is taken for unknown (the hook fails, and can be replayed)."""
        if not self.drone.token:
            return False
        try:
            found = self.drone.repository(hook.repo)
        except DroneUnavailable as e:
            log.warning("hook %s (%s): cannot ask Drone about the repository (%s)", hook.id, hook.repo, e)
            return False
        return found is not None and not found.get("active")

    def recover(self) -> None:
        """Every hook that was being sent when the shim stopped may have reached Drone: if Drone
        shows a build of it, it did; otherwise it is sent again."""
        for hook in self.outbox.in_flight(self.clock()):
            if self._drone_has_build_for(hook):
                self.outbox.delivered(hook.id, self.clock())
                log.info("hook %s (%s): Drone has its build; not sent again", hook.id, hook.repo)
            else:
                self.outbox.retry(hook.id, self.clock(), "the shim stopped while sending")

    def _drone_has_build_for(self, hook: Hook) -> bool:
        """Page back through the repository's builds until one is older than the hook."""
        if not self.drone.token or not expects_build(hook.event, hook.body):
            return False
        payload = json.loads(hook.body)  # an object: expects_build said so
        not_before = hook.received - RECOVERY_SKEW
        for page in range(1, RECOVERY_PAGES + 1):
            try:
                builds = self.drone.builds(hook.repo, page=page)
            except DroneUnavailable as e:
                log.warning("hook %s (%s): cannot ask Drone for its builds (%s); sending it again", hook.id,
                            hook.repo, e)
                return False
            if any(build_of(hook.event, payload, build, not_before) for build in builds):
                return True
            oldest = min((build.get("created") or 0 for build in builds), default=0)
            if not builds or oldest < not_before:
                return False
        return False
