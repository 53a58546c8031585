"""The shim's durable outbox: every accepted hook is committed to SQLite (WAL, synchronous=FULL)
before Gitea gets its 202, and stays until Drone has it. Delivery is in order per repository:
only the oldest undelivered hook of a repository is ever due."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS hooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery TEXT UNIQUE,
    repo TEXT NOT NULL,
    event TEXT NOT NULL,
    headers TEXT NOT NULL,
    query TEXT NOT NULL,
    body BLOB NOT NULL,
    received REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',  -- pending, sending, delivered, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered REAL
);
CREATE INDEX IF NOT EXISTS hooks_due ON hooks (status, repo, id);
"""


@dataclass(frozen=True)
class Hook:
    id: int
    delivery: str
    repo: str
    event: str
    headers: dict[str, str]
    query: str
    body: bytes
    received: float
    status: str
    attempts: int
    last_error: str


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        """One connection per thread: the web handler and the delivery worker each have theirs."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def add(self, delivery: str, repo: str, event: str, headers: dict[str, str], query: str, body: bytes,
            now: float) -> tuple[int, bool]:
        """Commit a hook; (its id, False), or (the first one's id, True) for a repeated delivery id."""
        db = self._db()
        try:
            cursor = db.execute(
                "INSERT INTO hooks (delivery, repo, event, headers, query, body, received, next_attempt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery or None, repo, event, json.dumps(headers), query, body, now, now))
            assert cursor.lastrowid is not None  # set by every successful INSERT
            return cursor.lastrowid, False
        except sqlite3.IntegrityError:
            row = db.execute("SELECT id FROM hooks WHERE delivery = ?", (delivery,)).fetchone()
            return row[0], True

    def due(self, now: float, limit: int = 50) -> list[Hook]:
        """The oldest undelivered hook of each repository, when its next attempt is due."""
        rows = self._db().execute(
            "SELECT * FROM hooks WHERE id IN (SELECT MIN(id) FROM hooks WHERE status IN ('pending', 'sending') "
            "GROUP BY repo) AND next_attempt <= ? ORDER BY id LIMIT ?", (now, limit)).fetchall()
        return [_hook(row) for row in rows]

    def sending(self, hook_id: int) -> None:
        self._db().execute("UPDATE hooks SET status = 'sending', attempts = attempts + 1 WHERE id = ?", (hook_id,))

    def delivered(self, hook_id: int, now: float) -> None:
        self._db().execute("UPDATE hooks SET status = 'delivered', delivered = ?, last_error = '' WHERE id = ?",
                           (now, hook_id))

    def retry(self, hook_id: int, at: float, error: str) -> None:
        self._db().execute("UPDATE hooks SET status = 'pending', next_attempt = ?, last_error = ? WHERE id = ?",
                           (at, error[:500], hook_id))

    def failed(self, hook_id: int, error: str) -> None:
        self._db().execute("UPDATE hooks SET status = 'failed', last_error = ? WHERE id = ?", (error[:500], hook_id))

    def replay(self, hook_id: int | None, now: float) -> int:
        """Queue failed hooks again (one, or all when hook_id is None); how many."""
        where, args = ("status = 'failed' AND id = ?", (hook_id,)) if hook_id is not None else ("status = 'failed'", ())
        return self._db().execute(f"UPDATE hooks SET status = 'pending', next_attempt = ? WHERE {where}",
                                  (now, *args)).rowcount

    def depth(self) -> tuple[int, float | None]:
        """Undelivered hooks, and when the oldest of them arrived."""
        count, oldest = self._db().execute(
            "SELECT COUNT(*), MIN(received) FROM hooks WHERE status IN ('pending', 'sending')").fetchone()
        return count, oldest

    def recent(self, limit: int = 50) -> list[Hook]:
        return [_hook(row) for row in self._db().execute("SELECT * FROM hooks ORDER BY id DESC LIMIT ?", (limit,))]

    def writable(self) -> bool:
        try:
            self._db().execute("BEGIN IMMEDIATE")
            self._db().execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False


def _hook(row: tuple) -> Hook:
    (hook_id, delivery, repo, event, headers, query, body, received, status, attempts, _next, error, _done) = row
    return Hook(hook_id, delivery or "", repo, event, json.loads(headers), query, bytes(body), received, status,
                attempts, error)
