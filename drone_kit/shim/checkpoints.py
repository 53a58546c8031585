"""Checkpoints of the outbox's WAL beside the commits, not inside them.

SQLite copies the WAL back into the database (a checkpoint: ~1,000 pages written and an fsync of
the database, ~8 ms here) in the commit that takes the WAL past `wal_autocheckpoint` pages. On the
outbox writer thread that is a commit whose hooks, and every hook queued behind it, wait: at 4,000
hooks/s, several times a second, the largest part of the shim's p99. Here a thread of its own does the
copying while the writer goes on committing (PASSIVE checkpoints never block a commit, and sqlite
lets go of the GIL meanwhile). It cannot let the WAL start over by itself, though: that needs
every frame copied when a write transaction begins, and under steady load a commit always lands
during a checkpoint. The writer's own autocheckpoint stays for that: it now finds little left to
copy, and the WAL starts over at its next commit."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from drone_kit.shim.outbox import connect

log = logging.getLogger(__name__)

# Seconds between two checkpoints, at most, while hooks are committed. A time, not a count of
# hooks: how many WAL pages a hook adds ranges from under one (delivery ids in order, a short
# backlog) to several (random ones over a long backlog, each on a page of its own in the index).
# 50 ms keeps what the writer's own checkpoint finds left well under SQLite's 1,000 pages at
# thousands of hooks a second, and costs an fsync of the database 20 times a second at most.
CHECKPOINT_EVERY = 0.05


class Checkpointer:
    """`committed(now)` after each commit; a PASSIVE checkpoint on a thread at most every `every`
    seconds (`now`: time.monotonic())."""

    def __init__(self, path: Path, every: float = CHECKPOINT_EVERY) -> None:
        self.path, self.every = path, every
        self.checkpoints = 0  # done so far
        self._nudged = float("-inf")  # when the writer last asked for one (the writer thread's own)
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="outbox-checkpointer", daemon=True)
        self._thread.start()

    def committed(self, now: float) -> None:
        """Called by the writer thread after each commit."""
        if now - self._nudged >= self.every:
            self._nudged = now
            self._wanted.set()

    def close(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        db = connect(self.path)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as error:  # the writer's own checkpoints still run
                    log.warning("could not checkpoint the outbox: %s", error)
        finally:
            db.close()
