"""The outbox's WAL is checkpointed beside the writer, while hooks are committed, at most every
`every` seconds: each commit may ask, and only the first ask of each interval is heard."""

from __future__ import annotations

import time

from drone_kit.shim.checkpoints import Checkpointer
from drone_kit.shim.outbox import Outbox
from tests.shim.support import wait_for


def test_commits_ask_for_a_checkpoint_at_most_once_an_interval(tmp_path):
    path = tmp_path / "outbox.sqlite"
    Outbox(path)
    checkpointer = Checkpointer(path, every=0.05)
    try:
        checkpointer.committed(100.0)
        wait_for(lambda: checkpointer.checkpoints == 1, 10, "the first checkpoint")
        checkpointer.committed(100.01)
        checkpointer.committed(100.049)
        time.sleep(0.3)
        assert checkpointer.checkpoints == 1  # asked within the interval: not heard
        checkpointer.committed(100.06)
        wait_for(lambda: checkpointer.checkpoints == 2, 10, "the next interval's checkpoint")
    finally:
        checkpointer.close()
