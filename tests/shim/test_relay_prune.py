"""The running relay forgets the hooks it has finished with once they are older than its
retention, checking every PRUNE_EVERY seconds of its clock; failed ones stay for a replay."""

from __future__ import annotations

import threading

from drone_kit.clients.drone import DroneClient
from drone_kit.shim.decisions import stored_headers
from drone_kit.shim.delivery import PRUNE_EVERY, Relay
from drone_kit.shim.outbox import NewHook, Outbox
from tests.fakes.drone import FakeDrone
from tests.shim.support import SECRET, Clock, gitea_headers, push_body, wait_for

REPO = "our-task/app"
RETENTION = 100.0  # far below the default week: a relay ignoring its setting would prune nothing here


def finished_push(outbox: Outbox, n: int, status: str, at: float) -> int:
    body = push_body(REPO, n)
    headers = stored_headers(gitea_headers(body))
    hook_id = outbox.add(NewHook(headers["x-gitea-delivery"], REPO, "push", headers, "", body, at))[0]
    if status == "delivered":
        outbox.delivered(hook_id, at)
    else:
        outbox.failed(hook_id, at, "HTTP 500: Not Found")
    return hook_id


def kept(outbox: Outbox) -> list[int]:
    return sorted(hook.id for hook in outbox.page(10, bodies=False))


def test_the_running_relay_prunes_delivered_hooks_older_than_its_retention(tmp_path):
    clock = Clock()
    start = clock.now
    outbox = Outbox(tmp_path / "outbox.sqlite")
    old = finished_push(outbox, 1, "delivered", start - RETENTION - 50)
    failed = finished_push(outbox, 2, "failed", start - RETENTION - 50)
    recent = finished_push(outbox, 3, "delivered", start - RETENTION + 50)
    stop = threading.Event()
    with FakeDrone(SECRET) as drone:
        relay = Relay(outbox, DroneClient(drone.url, drone.token), SECRET, retention=RETENTION, clock=clock)
        worker = threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True)
        worker.start()
        try:
            wait_for(lambda: old not in kept(outbox), timeout=10, what="the relay to prune the old hook")
            # The clock has not moved, so no later prune can have run since: this is what the first one kept.
            assert kept(outbox) == [failed, recent]
            clock.now += PRUNE_EVERY  # `recent` is now older than the retention too
            wait_for(lambda: recent not in kept(outbox), timeout=10, what="the relay's next prune")
            assert kept(outbox) == [failed]
        finally:
            stop.set()
            worker.join(timeout=10)
    assert not worker.is_alive()
