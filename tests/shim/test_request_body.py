"""Reading a body under a limit, fed by a plain ASGI `receive`: a declared length over the limit
reads nothing, a chunked body is cut off as soon as it passes the limit. And the shim's routes,
as an app and as a real server, refuse a declared length over the limit without waiting for a
body that may never come."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from drone_kit.shim.config import MAX_BODY
from drone_kit.shim.request_body import read_body
from tests.shim.support import running_shim, shim_app
from tests.stack.registry import free_port


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


@pytest.mark.parametrize("path", ["/hook", "/drone/events"])
def test_a_declared_length_over_max_body_is_refused_before_reading(tmp_path, path):
    app = shim_app(tmp_path, f"http://127.0.0.1:{free_port()}", max_body=1000, webhook_secret="wh-secret")
    asked, sent = [], []

    async def receive() -> dict:
        asked.append(True)
        await asyncio.Event().wait()  # the body never comes: reading it would hang the request
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    request = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
               "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
               "headers": [(b"content-type", b"application/json"), (b"content-length", b"1001")],
               "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080)}
    asyncio.run(asyncio.wait_for(app(request, receive, send), timeout=5))
    assert asked == []
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:])) == {"message": "body over 1000 bytes"}


def complete(answer: bytes) -> bool:
    """Whether `answer` holds a whole HTTP response head and the body its Content-Length announces."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                  if line.lower().startswith(b"content-length:"))
    return len(body) >= length


def test_a_real_server_answers_a_declared_length_over_max_body_without_the_body(tmp_path):
    with running_shim(tmp_path, f"http://127.0.0.1:{free_port()}") as url:
        host, port = url.removeprefix("http://").split(":")
        # The timeout is the proof: a server waiting for the body would leave recv() hanging.
        with socket.create_connection((host, int(port)), timeout=5) as client:
            client.sendall(f"POST /hook HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode())
            answer = b""
            while not complete(answer):
                chunk = client.recv(4096)
                assert chunk, f"the shim closed the connection after {answer!r}"
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body) == {"message": f"body over {MAX_BODY} bytes"}
