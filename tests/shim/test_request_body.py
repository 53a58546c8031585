"""Reading a body under a limit, fed by a plain ASGI `receive`: a declared length over the limit
reads nothing, a chunked body is cut off as soon as it passes the limit."""

from __future__ import annotations

import asyncio

from drone_kit.shim.request_body import read_body


class Sender:
    """An ASGI `receive` handing out `chunks` chunks of `size` bytes, counting what was taken."""

    def __init__(self, size: int, chunks: int) -> None:
        self.size, self.chunks, self.taken = size, chunks, 0

    async def __call__(self) -> dict:
        self.taken += 1
        more = self.taken < self.chunks
        return {"type": "http.request", "body": b"x" * self.size, "more_body": more}


def scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {"type": "http", "method": "POST", "path": "/hook", "headers": headers}


def test_a_body_under_the_limit_is_read_whole():
    sender = Sender(1000, 5)
    assert asyncio.run(read_body(scope([]), sender, 5000)) == b"x" * 5000


def test_a_chunked_body_is_cut_off_once_past_the_limit():
    sender = Sender(16 * 1024, 10_000)  # 160 MB if read whole
    assert asyncio.run(read_body(scope([]), sender, 64 * 1024)) is None
    assert sender.taken == 5  # the chunk that passed 64 KiB, and no more


def test_a_declared_length_over_the_limit_reads_nothing():
    sender = Sender(1000, 1)
    assert asyncio.run(read_body(scope([(b"content-length", b"70000")]), sender, 64 * 1024)) is None
    assert sender.taken == 0
