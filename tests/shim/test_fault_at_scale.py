"""The shim's promise at scale, as an operator would try it: 2,000 signed pushes across 5
repositories from many connections at once; Drone down for 30 s, then answering 5xx for one
commit; the shim SIGKILLed three times (once with over 500 hooks waiting). Every hook that got its
202 reaches Drone exactly once and in order per repository; the poisoned one fails after its retry
budget without holding its repository up, and is delivered once replayed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.fakes.drone import FakeDrone
from tests.shim.support import SECRET, gitea_headers, hook_answer, push_body, running_shim, wait_for
from tests.shim.test_shim import _shim_pid

REPOS = [f"our-task/app{i}" for i in range(5)]
POISONED = 1234  # the commit Drone cannot build: its .drone.yml does not parse
# Through the outage, hooks are given up only after 10 minutes: the outage lasts as long as the
# bursts during it take, 30 s or more on a slow machine. Once Drone is back, every hook still
# waiting has been tried since, and 35 s is enough to watch the poisoned one fail.
THROUGH_THE_OUTAGE = {"retry_max": "1", "retry_age": "10m"}
AFTER_THE_OUTAGE = {"retry_max": "1", "retry_age": "35s"}


class Gitea:
    """Sends numbered pushes from many connections; remembers what the shim accepted (202), by id,
    and what it could not deliver while the shim was down, for an operator's redelivery (the same
    delivery id) once it is back."""

    def __init__(self) -> None:
        self.accepted: dict[str, tuple[int, str]] = {}  # delivery id -> (outbox id, repo)
        self.sent: set[str] = set()
        self.numbers: dict[int, str] = {}  # push number -> delivery id
        self.undelivered: list[tuple[str, bytes, dict]] = []  # (repo, body, headers) refused or cut off
        self.lock = threading.Lock()
        self.local = threading.local()

    def push(self, shim: str, n: int) -> None:
        repo = REPOS[n % len(REPOS)]
        body = push_body(repo, n)
        headers = gitea_headers(body)
        with self.lock:
            self.sent.add(headers["X-Gitea-Delivery"])
            self.numbers[n] = headers["X-Gitea-Delivery"]
        self.send(shim, repo, body, headers)

    def send(self, shim: str, repo: str, body: bytes, headers: dict) -> None:
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        try:
            answer = session.post(f"{shim}/hook", data=body, headers=headers, timeout=10)
        except requests.RequestException:  # the shim is down, or was killed under this request
            self.local.session = None
            with self.lock:
                self.undelivered.append((repo, body, headers))
            return
        hook_id, _ = hook_answer(answer)
        with self.lock:
            self.accepted[headers["X-Gitea-Delivery"]] = (hook_id, repo)

    def redeliver(self, shim: str) -> None:
        """What Gitea could not deliver, sent again: a hook the shim committed just before it was
        killed comes back as a duplicate of itself."""
        with self.lock:
            again, self.undelivered = self.undelivered, []
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda hook: self.send(shim, *hook), again))

    def burst(self, shim: str, numbers: range, kill_after: int | None = None) -> None:
        """Send `numbers` from 32 connections; SIGKILL the shim once `kill_after` were accepted."""
        victim = _shim_pid(int(shim.rsplit(":", 1)[1]))
        killer = None
        if kill_after is not None:
            def kill_when_due() -> None:
                while len(self.accepted) < kill_after:
                    time.sleep(0.005)
                os.kill(victim, signal.SIGKILL)
            killer = threading.Thread(target=kill_when_due, daemon=True)
            killer.start()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda n: self.push(shim, n), numbers))
        if killer is not None:
            killer.join(timeout=30)

    def expected_order(self, repo: str) -> list[str]:
        return [delivery for delivery, (_, r) in sorted(self.accepted.items(), key=lambda item: item[1][0])
                if r == repo]


def test_2000_hooks_through_an_outage_a_poisoned_commit_and_three_kills(tmp_path):
    drone = FakeDrone(SECRET)
    poisoned_delivery = ""
    poisoned_after = f"{POISONED:040x}"
    drone.fail_commits[poisoned_after] = (500, "Not Found")  # Drone found no .drone.yml at that commit
    options = {**THROUGH_THE_OUTAGE, "drone_token": drone.token}
    gitea = Gitea()
    try:
        drone.down()
        outage = time.monotonic()
        with running_shim(tmp_path, drone.url, **options) as shim:
            port = int(shim.rsplit(":", 1)[1])
            gitea.burst(shim, range(0, 800), kill_after=600)  # kill 1: Drone down, over 500 waiting
        assert len(gitea.accepted) >= 600
        with running_shim(tmp_path, drone.url, port=port, **options) as shim:
            gitea.redeliver(shim)
            gitea.burst(shim, range(800, 1400))
            time.sleep(max(0.0, 30 - (time.monotonic() - outage)))
            assert drone.deliveries == []
            drone.up()
            wait_for(lambda: len(drone.deliveries) >= 300, timeout=60, what="deliveries after the outage")
            os.kill(_shim_pid(port), signal.SIGKILL)  # kill 2: mid-delivery
        with running_shim(tmp_path, drone.url, port=port, **options) as shim:
            gitea.burst(shim, range(1400, 2000), kill_after=len(gitea.accepted) + 300)  # kill 3: under load
        with running_shim(tmp_path, drone.url, port=port, **{**options, **AFTER_THE_OUTAGE}) as shim:
            gitea.redeliver(shim)
            assert gitea.undelivered == []
            poisoned_delivery = gitea.numbers[POISONED]
            assert poisoned_delivery in gitea.accepted
            wait_for(lambda: set(gitea.accepted) - {poisoned_delivery} <= set(drone.delivered_ids()), timeout=120,
                     what="every accepted hook but the poisoned one")
            wait_for(lambda: requests.get(f"{shim}/deliveries?status=failed", timeout=5).json() != [], timeout=60,
                     what="the poisoned hook to fail")
            [poisoned] = requests.get(f"{shim}/deliveries?status=failed", timeout=5).json()
            assert poisoned["delivery"] == poisoned_delivery
            assert poisoned["error"].startswith("HTTP 500") and "Not Found" in poisoned["error"]
            assert "drone_kit_shim_outbox_failed 1.0" in requests.get(f"{shim}/metrics", timeout=5).text
            del drone.fail_commits[poisoned_after]
            replay = subprocess.run([sys.executable, "-m", "drone_kit", "shim", "replay", "--failed",
                                     "--outbox", str(tmp_path / "outbox.sqlite")], capture_output=True, text=True)
            assert replay.returncode == 0, replay.stderr
            wait_for(lambda: poisoned_delivery in drone.delivered_ids(), timeout=60, what="the replayed hook")
            time.sleep(0.5)
    finally:
        drone.down()

    delivered = drone.delivered_ids()
    assert len(gitea.accepted) == 2000
    assert len(delivered) == len(set(delivered)), "a push was delivered twice"
    assert set(gitea.accepted) <= set(delivered) <= gitea.sent  # nothing lost, nothing made up
    for repo in REPOS:
        order = [d["delivery"] for d in drone.deliveries if d["repo"] == repo and d["delivery"] in gitea.accepted]
        expected = gitea.expected_order(repo)
        if poisoned_delivery in expected:  # replayed last, after the hooks that came after it
            expected = [d for d in expected if d != poisoned_delivery] + [poisoned_delivery]
        assert order == expected, f"{repo} delivered out of order"
