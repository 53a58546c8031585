"""The shim's durable outbox: every accepted hook is committed to SQLite (WAL, synchronous=FULL)
before Gitea gets its 202, and stays until Drone has it. Delivery is in order per repository:
only the oldest undelivered hook of a repository is ever due. Nothing secret is stored: the hook
is kept with the headers Drone needs and without the URL's secret (see `decisions`)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

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
    status TEXT NOT NULL DEFAULT 'pending',  -- pending, sending, delivered, ignored, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered REAL,  -- when it left the queue: delivered, ignored by Drone, or failed
    first_attempt REAL
);
CREATE INDEX IF NOT EXISTS hooks_due ON hooks (status, repo, id);
CREATE INDEX IF NOT EXISTS hooks_waiting ON hooks (repo, id) WHERE status IN ('pending', 'sending');
"""
UNDELIVERED = ("pending", "sending")
STATUSES = ("pending", "sending", "delivered", "ignored", "failed")
_INSERT = ("INSERT INTO hooks (delivery, repo, event, headers, query, body, received, next_attempt) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery) DO NOTHING RETURNING id")

# Asked every few milliseconds by the relay, so it must not read the whole backlog: it hops from
# one waiting repository to the next along the partial index, and takes each one's oldest hook.
_WAITING = "status IN ('pending', 'sending')"
_DUE = f"""
WITH RECURSIVE waiting(repo) AS (
    SELECT (SELECT repo FROM hooks WHERE {_WAITING} ORDER BY repo LIMIT 1)
    UNION ALL
    SELECT (SELECT repo FROM hooks WHERE {_WAITING} AND repo > waiting.repo ORDER BY repo LIMIT 1)
    FROM waiting WHERE waiting.repo IS NOT NULL
)
SELECT hooks.* FROM waiting JOIN hooks
    ON hooks.id = (SELECT id FROM hooks WHERE {_WAITING} AND repo = waiting.repo ORDER BY id LIMIT 1)
WHERE hooks.next_attempt <= ? ORDER BY hooks.id LIMIT ?
"""


_HEADERS = msgspec.json.Encoder()


@dataclass(frozen=True)
class NewHook:
    """A hook as accepted, already stripped of secrets."""

    delivery: str
    repo: str
    event: str
    headers: dict[str, str]
    query: str
    body: bytes
    received: float


@dataclass(frozen=True)
class Hook(NewHook):
    """A hook in the outbox, with where its delivery stands."""

    id: int
    status: str
    attempts: int
    last_error: str
    first_attempt: float | None = None
    finished: float | None = None


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with the outbox's durability settings."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def _row(hook: NewHook) -> tuple:
    """The values of `_INSERT` for a hook (its first attempt is due when it arrives)."""
    # msgspec: a seventh of json's time, on the writer thread, which holds the GIL for it
    return (hook.delivery or None, hook.repo, hook.event, _HEADERS.encode(hook.headers).decode(), hook.query,
            hook.body, hook.received, hook.received)


def insert(db: sqlite3.Connection, hooks: Iterable[NewHook]) -> list[tuple[int, bool]]:
    """Insert hooks in one transaction (the current one, else one of their own, committed on
    return): (id, False) for each new one, (the first one's id, True) for a delivery id seen
    before (Gitea redelivering), also earlier in `hooks`."""
    hooks = list(hooks)
    first: dict[str, int] = {}  # delivery id → index of its first hook
    fresh = [n for n, hook in enumerate(hooks) if not hook.delivery or first.setdefault(hook.delivery, n) == n]
    # One statement for them all, without RETURNING: the outbox writer thread waits for the GIL
    # after every step of a statement, so fewer steps make a quicker batch. No row skipped and the
    # write lock held, the ids are consecutive in VALUES order. A delivery id committed before
    # fails the statement whole (ABORT), and then, as when too many for one statement, hooks go
    # one at a time.
    if 0 < len(fresh) * 8 <= db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER):
        rows = [_row(hooks[n]) for n in fresh]
        statement = _INSERT.partition(" ON CONFLICT")[0] + ", (?, ?, ?, ?, ?, ?, ?, ?)" * (len(rows) - 1)
        try:
            last = db.execute(statement, [value for row in rows for value in row]).lastrowid or 0
        except sqlite3.IntegrityError:
            pass
        else:
            ids = dict(zip(fresh, range(last - len(fresh) + 1, last + 1), strict=True))
            return [(ids[n], False) if n in ids else (ids[first[hook.delivery]], True) for n, hook in enumerate(hooks)]
    own = not db.in_transaction
    if own:
        db.execute("BEGIN IMMEDIATE")
    try:
        results = []
        for hook in hooks:
            # fetchall: a RETURNING statement left unfinished would hold the write transaction open
            inserted = db.execute(_INSERT, _row(hook)).fetchall()
            found = inserted or db.execute("SELECT id FROM hooks WHERE delivery = ?", (hook.delivery,)).fetchall()
            results.append((found[0][0], not inserted))
        if own:
            db.execute("COMMIT")
    finally:
        if own and db.in_transaction:  # failed on the way: none of these hooks stays
            db.execute("ROLLBACK")
    return results


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        db = self._db()
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(hooks)")}
        if "first_attempt" not in columns:  # an outbox written before retries were bounded
            db.execute("ALTER TABLE hooks ADD COLUMN first_attempt REAL")

    def _db(self) -> sqlite3.Connection:
        """One connection per thread: the web handler and the delivery worker each have theirs."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
        return db

    def add(self, hook: NewHook) -> tuple[int, bool]:
        """Commit one hook on its own (one transaction, one fsync)."""
        return insert(self._db(), [hook])[0]

    def due(self, now: float, limit: int = 50) -> list[Hook]:
        """The oldest undelivered hook of each repository, when its next attempt is due."""
        rows = self._db().execute(_DUE, (now, limit)).fetchall()
        return [_hook(row) for row in rows]

    def in_flight(self) -> list[Hook]:
        """Every hook marked as being sent: after a crash, those Drone may or may not have."""
        return [_hook(row) for row in self._db().execute("SELECT * FROM hooks WHERE status = 'sending' ORDER BY id")]

    def sending(self, hook_id: int, now: float) -> None:
        self._db().execute("UPDATE hooks SET status = 'sending', attempts = attempts + 1, "
                           "first_attempt = COALESCE(first_attempt, ?) WHERE id = ?", (now, hook_id))

    def delivered(self, hook_id: int, now: float) -> None:
        self._finish(hook_id, "delivered", now, "")

    def ignored(self, hook_id: int, now: float, why: str) -> None:
        self._finish(hook_id, "ignored", now, why)

    def failed(self, hook_id: int, now: float, error: str) -> None:
        self._finish(hook_id, "failed", now, error)

    def _finish(self, hook_id: int, status: str, now: float, note: str) -> None:
        self._db().execute("UPDATE hooks SET status = ?, delivered = ?, last_error = ? WHERE id = ?",
                           (status, now, note[:500], hook_id))

    def retry(self, hook_id: int, at: float, error: str) -> None:
        self._db().execute("UPDATE hooks SET status = 'pending', next_attempt = ?, last_error = ? WHERE id = ?",
                           (at, error[:500], hook_id))

    def replay(self, hook_id: int | None, now: float) -> int:
        """Queue failed hooks again (one, or all when hook_id is None) with a fresh retry budget; how many.
        A replayed hook goes behind the hooks of its repository that came after it."""
        where, args = ("status = 'failed' AND id = ?", (hook_id,)) if hook_id is not None else ("status = 'failed'", ())
        return self._db().execute(
            f"UPDATE hooks SET status = 'pending', next_attempt = ?, attempts = 0, first_attempt = NULL, "
            f"delivered = NULL WHERE {where}", (now, *args)).rowcount

    def prune(self, before: float) -> int:
        """Forget hooks delivered or ignored before `before`; how many. Failed ones stay for replay."""
        return self._db().execute("DELETE FROM hooks WHERE status IN ('delivered', 'ignored') AND delivered < ?",
                                  (before,)).rowcount

    def depth(self) -> tuple[int, float | None]:
        """Undelivered hooks, and when the oldest of them arrived."""
        count, oldest = self._db().execute(
            "SELECT COUNT(*), MIN(received) FROM hooks WHERE status IN ('pending', 'sending')").fetchone()
        return count, oldest

    def count(self, status: str) -> int:
        return self._db().execute("SELECT COUNT(*) FROM hooks WHERE status = ?", (status,)).fetchone()[0]

    def page(self, limit: int, before: int | None = None, status: str | None = None) -> list[Hook]:
        """Newest first: up to `limit` hooks with ids below `before`, of one status if given."""
        clauses, args = [], []  # type: list[str], list[object]
        if before is not None:
            clauses.append("id < ?")
            args.append(before)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [_hook(row) for row in self._db().execute(f"SELECT * FROM hooks {where} ORDER BY id DESC LIMIT ?",
                                                         (*args, limit))]

    def writable(self) -> bool:
        try:
            self._db().execute("BEGIN IMMEDIATE")
            self._db().execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False


def _hook(row: tuple) -> Hook:
    (hook_id, delivery, repo, event, headers, query, body, received, status, attempts, _next, error, finished,
     first_attempt) = row
    return Hook(delivery or "", repo, event, json.loads(headers), query, bytes(body), received, id=hook_id,
                status=status, attempts=attempts, last_error=error, first_attempt=first_attempt, finished=finished)
