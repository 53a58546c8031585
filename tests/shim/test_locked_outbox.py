"""An outbox another writer holds locked (a commit behind a slow disk) holds up what needs its lock,
and nothing else: /readyz waits for it off the event loop while the shim goes on answering."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.fakes.drone import FakeDrone
from tests.shim.support import SECRET, running_shim


def test_readyz_waits_for_a_locked_outbox_without_holding_up_the_shim(tmp_path):
    with FakeDrone(SECRET) as drone, running_shim(tmp_path, drone.url) as url:
        locker = sqlite3.connect(tmp_path / "outbox.sqlite", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            with ThreadPoolExecutor(1) as pool:
                ready = pool.submit(requests.get, f"{url}/readyz", timeout=60)
                time.sleep(0.5)  # for /readyz to be waiting for the lock
                assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
                assert requests.get(f"{url}/metrics", timeout=10).status_code == 200
                assert not ready.done()
                locker.execute("ROLLBACK")
                answer = ready.result()
        finally:
            locker.close()
        assert answer.status_code == 200 and answer.json()["outbox_writable"] is True
