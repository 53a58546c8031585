"""The outbox on disk: no secret in it, read raw; hooks that arrive together committed together
and each durable before its answer; delivered hooks pruned after the retention; failed ones kept
for replay with a fresh retry budget; an outbox from before bounded retries opened as it is; its
connections in WAL mode with a full sync at every commit."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from starlette.testclient import TestClient

from drone_kit.shim.group_commit import GroupCommitter
from drone_kit.shim.outbox import NewHook, Outbox, connect
from tests.shim.support import SECRET, gitea_headers, push_body, shim_app
from tests.stack.registry import free_port

GITEA_AUTHORIZATION = "Bearer gitea-hook-authorization-4b1d"


def raw_files(tmp_path) -> bytes:
    """Every byte written for the outbox: the database, its WAL and any journal, the body log."""
    files = [path for path in tmp_path.glob("outbox.sqlite*") if path.is_file()]
    files += list((tmp_path / "outbox.sqlite.bodies").iterdir())
    return b"".join(path.read_bytes() for path in files)


def test_no_secret_of_a_hook_is_stored(tmp_path):
    client = TestClient(shim_app(tmp_path, f"http://127.0.0.1:{free_port()}"))
    signatures = []
    for n, query in enumerate([f"?secret={SECRET}", ""]):  # Drone's hook URL carries its signer
        body = push_body("our-task/app", n)
        headers = {**gitea_headers(body), "Authorization": GITEA_AUTHORIZATION}
        signatures.append(headers["X-Gitea-Signature"])
        assert client.post(f"/hook{query}", content=body, headers=headers).status_code == 202
    stored = raw_files(tmp_path)
    assert b"our-task/app" in stored and push_body("our-task/app", 1) in stored  # the hooks are there…
    for secret in (SECRET, GITEA_AUTHORIZATION, "gitea-hook-authorization-4b1d", *signatures):
        assert secret.encode() not in stored  # …and nothing secret with them


def new_hook(n: int, delivery: str | None = None, repo: str = "our-task/app") -> NewHook:
    return NewHook(delivery if delivery is not None else f"delivery-{n}", repo, "push",
                   {"content-type": "application/json"}, "", push_body(repo, n), time.time())


def test_hooks_arriving_together_share_transactions_and_each_is_durable_when_answered(tmp_path):
    path = tmp_path / "outbox.sqlite"
    Outbox(path)
    committer = GroupCommitter(path)
    durable_when_answered = []

    async def accept(n: int) -> tuple[int, bool]:
        result = await committer.add(new_hook(n))
        with sqlite3.connect(path) as other:  # another connection sees the row: it is committed
            durable_when_answered.append(other.execute("SELECT COUNT(*) FROM hooks WHERE id = ?",
                                                       (result[0],)).fetchone()[0] == 1)
        return result

    async def accept_all() -> list[tuple[int, bool]]:
        return await asyncio.gather(*(accept(n) for n in range(200)))

    results = asyncio.run(accept_all())
    committer.close()
    assert len({hook_id for hook_id, _ in results}) == 200 and not any(duplicate for _, duplicate in results)
    assert all(durable_when_answered)
    assert committer.transactions < 200  # shared: fewer commits, so fewer fsyncs, than hooks


def test_a_delivery_id_repeated_within_one_transaction_is_a_duplicate(tmp_path):
    path = tmp_path / "outbox.sqlite"
    Outbox(path)
    committer = GroupCommitter(path)

    async def both() -> list[tuple[int, bool]]:
        return await asyncio.gather(committer.add(new_hook(1, "same")), committer.add(new_hook(2, "same")))

    first, second = asyncio.run(both())
    committer.close()
    assert first == (first[0], False) and second == (first[0], True)


def test_one_hook_per_transaction_when_asked(tmp_path):
    path = tmp_path / "outbox.sqlite"
    Outbox(path)
    committer = GroupCommitter(path, max_batch=1)

    async def accept_all() -> None:
        await asyncio.gather(*(committer.add(new_hook(n)) for n in range(20)))

    asyncio.run(accept_all())
    committer.close()
    assert committer.transactions == 20


def test_delivered_and_ignored_hooks_are_pruned_after_the_retention_failed_ones_kept(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    ids = [outbox.add(new_hook(n))[0] for n in range(4)]
    outbox.delivered(ids[0], 1000.0)
    outbox.ignored(ids[1], 1000.0, "inactive")
    outbox.failed(ids[2], 1000.0, "HTTP 500: no .drone.yml")
    outbox.delivered(ids[3], 2000.0)
    assert outbox.prune(before=1500.0) == 2
    assert [hook.id for hook in outbox.page(10)] == [ids[3], ids[2]]


def test_pruning_removes_the_body_segments_no_hook_points_at(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.bodies.segment_bytes = 1  # a segment per hook
    ids = [outbox.add(new_hook(n))[0] for n in range(4)]
    assert outbox.bodies.segments() == [1, 2, 3, 4]
    for hook_id in ids[:2]:
        outbox.delivered(hook_id, 1000.0)
    outbox.failed(ids[2], 1000.0, "HTTP 500: no .drone.yml")
    assert outbox.prune(before=1500.0) == 2
    assert outbox.bodies.segments() == [3, 4]  # the failed hook's body stays for a replay
    assert [hook.body for hook in outbox.page(10)] == [push_body("our-task/app", n) for n in (3, 2)]


def test_a_replayed_hook_gets_a_fresh_retry_budget(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    hook_id, _ = outbox.add(new_hook(1))
    for _ in range(3):
        outbox.sending(hook_id, 1000.0)
    outbox.failed(hook_id, 1100.0, "HTTP 500: boom")
    assert outbox.replay(hook_id, 2000.0) == 1
    [hook] = outbox.page(1)
    assert (hook.status, hook.attempts, hook.first_attempt, hook.finished) == ("pending", 0, None, None)


def test_pages_go_back_from_the_newest(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    ids = [outbox.add(new_hook(n))[0] for n in range(7)]
    outbox.failed(ids[2], 1.0, "x")
    assert [h.id for h in outbox.page(3)] == ids[:-4:-1]
    assert [h.id for h in outbox.page(3, before=ids[4])] == [ids[3], ids[2], ids[1]]
    assert [h.id for h in outbox.page(10, status="failed")] == [ids[2]]


def test_an_outbox_from_before_bounded_retries_opens_with_its_hooks(tmp_path):
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript("""
            CREATE TABLE hooks (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery TEXT UNIQUE, repo TEXT NOT NULL,
                event TEXT NOT NULL, headers TEXT NOT NULL, query TEXT NOT NULL, body BLOB NOT NULL,
                received REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt REAL NOT NULL, last_error TEXT NOT NULL DEFAULT '', delivered REAL);
            INSERT INTO hooks (delivery, repo, event, headers, query, body, received, next_attempt)
                VALUES ('old-1', 'our-task/app', 'push', '{}', '', x'7b7d', 1.0, 1.0);
        """)
    outbox = Outbox(path)
    [hook] = outbox.due(now=2.0)
    assert hook.delivery == "old-1" and hook.first_attempt is None and hook.body == b"{}"  # its body in its row
    new_id, _ = outbox.add(new_hook(2, repo="our-task/other"))
    assert {h.id: h.body for h in outbox.page(10)} == {hook.id: b"{}", new_id: push_body("our-task/other", 2)}


def test_a_hook_whose_body_is_lost_is_failed_saying_so_and_its_repository_goes_on(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.bodies.segment_bytes = 1  # a segment per hook
    lost, kept = outbox.add(new_hook(1))[0], outbox.add(new_hook(2, repo="our-task/other"))[0]
    outbox.bodies.path(1).unlink()  # removed by hand
    assert [hook.id for hook in outbox.due(now=time.time() + 1)] == [kept]
    [failed] = outbox.page(10, status="failed", bodies=False)
    assert failed.id == lost and "its body is lost" in failed.last_error and "00000001.bodies" in failed.last_error
    assert [hook.body for hook in outbox.page(10, bodies=False)] == [b"", b""]  # /deliveries reads no body


def test_the_outbox_connection_writes_ahead_and_syncs_every_commit(tmp_path):
    # `connect` is what the outbox writer and the relay open: a hook answered 202 must survive a power cut.
    db = connect(tmp_path / "outbox.sqlite")
    try:
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
