"""The shim's durable outbox: every accepted hook is committed to SQLite (WAL, synchronous=FULL),
its body to the body log beside it (`body_log`), before Gitea gets its 202, and stays until Drone
has it. Delivery is in order per repository:
only the oldest undelivered hook of a repository is ever due. Nothing secret is stored: the hook
is kept with the headers Drone needs and without the URL's secret (see `decisions`)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from drone_kit.shim.body_log import BodyLog, BodyLogError, BodyRef, body_log_directory

log = logging.getLogger(__name__)

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
    first_attempt REAL,
    body_segment INTEGER,  -- where the body is in the body log; NULL: in `body` (written before the log)
    body_offset INTEGER,
    body_length INTEGER
);
CREATE INDEX IF NOT EXISTS hooks_due ON hooks (status, repo, id);
CREATE INDEX IF NOT EXISTS hooks_waiting ON hooks (repo, id) WHERE status IN ('pending', 'sending');
"""
UNDELIVERED = ("pending", "sending")
STATUSES = ("pending", "sending", "delivered", "ignored", "failed")
_INSERT = ("INSERT INTO hooks (delivery, repo, event, headers, query, body, received, next_attempt, body_segment, "
           "body_offset, body_length) VALUES (?, ?, ?, ?, ?, x'', ?, ?, ?, ?, ?) "
           "ON CONFLICT (delivery) DO NOTHING RETURNING id")
_VALUES = _INSERT.partition(" VALUES ")[2].partition(" ON CONFLICT")[0]

_COLUMNS = ("id, delivery, repo, event, headers, query, body, received, status, attempts, last_error, delivered, "
            "first_attempt, body_segment, body_offset, body_length")
_WITHOUT_BODY = ("id, delivery, repo, event, headers, query, x'', received, status, attempts, last_error, delivered, "
                 "first_attempt, NULL, NULL, NULL")

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
SELECT {", ".join(f"hooks.{column}" for column in _COLUMNS.split(", "))} FROM waiting JOIN hooks
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


def open_body_log(db: sqlite3.Connection, path: Path) -> BodyLog:
    """The body log of the outbox at `path`, its new segments numbered after any its rows point at."""
    newest = db.execute("SELECT MAX(body_segment) FROM hooks").fetchone()[0]
    return BodyLog(body_log_directory(path), newer_than=newest or 0)


def _row(hook: NewHook, body: BodyRef) -> tuple:
    """The values of `_INSERT` for a hook (its first attempt is due when it arrives)."""
    # msgspec: a seventh of json's time, on the writer thread, which holds the GIL for it
    return (hook.delivery or None, hook.repo, hook.event, _HEADERS.encode(hook.headers).decode(), hook.query,
            hook.received, hook.received, body.segment, body.offset, body.length)


def insert(db: sqlite3.Connection, bodies: BodyLog, hooks: Iterable[NewHook]) -> list[tuple[int, bool]]:
    """Append the hooks' bodies to `bodies`, then insert the hooks in one transaction (the current
    one, else one of their own, committed on return): (id, False) for each new one, (the first
    one's id, True) for a delivery id seen before (Gitea redelivering), also earlier in `hooks`."""
    hooks = list(hooks)
    first: dict[str, int] = {}  # delivery id → index of its first hook
    fresh = [n for n, hook in enumerate(hooks) if not hook.delivery or first.setdefault(hook.delivery, n) == n]
    refs = dict(zip(fresh, bodies.append([hooks[n].body for n in fresh]), strict=True))
    # One statement for them all, without RETURNING: the outbox writer thread waits for the GIL
    # after every step of a statement, so fewer steps make a quicker batch. No row skipped and the
    # write lock held, the ids are consecutive in VALUES order. A delivery id committed before
    # fails the statement whole (ABORT), and then, as when too many for one statement, hooks go
    # one at a time.
    if 0 < len(fresh) * _VALUES.count("?") <= db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER):
        rows = [_row(hooks[n], refs[n]) for n in fresh]
        statement = _INSERT.partition(" ON CONFLICT")[0] + f", {_VALUES}" * (len(rows) - 1)
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
        for n, hook in enumerate(hooks):
            # fetchall: a RETURNING statement left unfinished would hold the write transaction open
            inserted = db.execute(_INSERT, _row(hook, refs[n])).fetchall() if n in refs else []
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
        # an outbox written before retries were bounded, or before bodies went to the body log
        for column in ("first_attempt REAL", "body_segment INTEGER", "body_offset INTEGER", "body_length INTEGER"):
            if column.split()[0] not in columns:
                db.execute(f"ALTER TABLE hooks ADD COLUMN {column}")
        self.bodies = open_body_log(db, path)

    def _db(self) -> sqlite3.Connection:
        """One connection per thread: the web handler and the delivery worker each have theirs."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
        return db

    def add(self, hook: NewHook) -> tuple[int, bool]:
        """Commit one hook on its own. Not beside a running `GroupCommitter`: the body log has one appender."""
        return insert(self._db(), self.bodies, [hook])[0]

    def due(self, now: float, limit: int = 50) -> list[Hook]:
        """The oldest undelivered hook of each repository, when its next attempt is due."""
        return self._deliverable(self._db().execute(_DUE, (now, limit)).fetchall(), now)

    def in_flight(self, now: float) -> list[Hook]:
        """Every hook marked as being sent: after a crash, those Drone may or may not have."""
        rows = self._db().execute(f"SELECT {_COLUMNS} FROM hooks WHERE status = 'sending' ORDER BY id").fetchall()
        return self._deliverable(rows, now)

    def _deliverable(self, rows: list[tuple], now: float) -> list[Hook]:
        """The hooks of `rows` with their bodies; one whose body is lost (its file removed or cut
        short by hand) is failed, saying so, so that its repository's next hooks still go."""
        hooks = []
        for row in rows:
            try:
                hooks.append(self._hook(row))
            except BodyLogError as error:
                log.error("hook %d cannot be delivered: its body is lost: %s", row[0], error)
                self.failed(row[0], now, f"its body is lost: {error}")
            except OSError as error:  # the disk, for now: tried again at the next round
                log.warning("could not read hook %d's body, trying again: %s", row[0], error)
        return hooks

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
        """Forget hooks delivered or ignored before `before`, and the body log's segments no hook
        points at any more; how many hooks. Failed ones stay for replay."""
        db = self._db()
        pruned = db.execute("DELETE FROM hooks WHERE status IN ('delivered', 'ignored') AND delivered < ?",
                            (before,)).rowcount
        if not pruned:  # no segment can have been freed: no need to read the whole table
            return 0
        try:
            newest = max(self.bodies.segments(), default=0)  # before the rows are read: see remove_unreferenced
            referenced = [row[0] for row in db.execute(
                "SELECT DISTINCT body_segment FROM hooks WHERE body_segment IS NOT NULL")]
            self.bodies.remove_unreferenced(referenced, below=newest)
        except OSError as error:  # tried again at the next prune
            log.warning("could not remove the body log's unused segments: %s", error)
        return pruned

    def depth(self) -> tuple[int, float | None]:
        """Undelivered hooks, and when the oldest of them arrived."""
        count, oldest = self._db().execute(
            "SELECT COUNT(*), MIN(received) FROM hooks WHERE status IN ('pending', 'sending')").fetchone()
        return count, oldest

    def count(self, status: str) -> int:
        return self._db().execute("SELECT COUNT(*) FROM hooks WHERE status = ?", (status,)).fetchone()[0]

    def page(self, limit: int, before: int | None = None, status: str | None = None,
             bodies: bool = True) -> list[Hook]:
        """Newest first: up to `limit` hooks with ids below `before`, of one status if given; with
        `bodies=False`, each with an empty body (what /deliveries shows of a hook has none)."""
        clauses, args = [], []  # type: list[str], list[object]
        if before is not None:
            clauses.append("id < ?")
            args.append(before)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = _COLUMNS if bodies else _WITHOUT_BODY
        return [self._hook(row) for row in
                self._db().execute(f"SELECT {columns} FROM hooks {where} ORDER BY id DESC LIMIT ?", (*args, limit))]

    def writable(self) -> bool:
        """The database takes a write lock, and the body log's directory can be written to."""
        try:
            self._db().execute("BEGIN IMMEDIATE")
            self._db().execute("ROLLBACK")
        except sqlite3.Error:
            return False
        return os.access(self.bodies.directory, os.W_OK)


    def _hook(self, row: tuple) -> Hook:
        (hook_id, delivery, repo, event, headers, query, body, received, status, attempts, error, finished,
         first_attempt, segment, offset, length) = row
        if segment is not None:
            body = self.bodies.read(BodyRef(segment, offset, length))
        return Hook(delivery or "", repo, event, json.loads(headers), query, bytes(body), received, id=hook_id,
                    status=status, attempts=attempts, last_error=error, first_attempt=first_attempt, finished=finished)
