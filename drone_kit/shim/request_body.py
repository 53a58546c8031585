"""Reading a request body no larger than a limit: a `Content-Length` over it is refused before a
byte is read, and a body without one (chunked) is cut off the moment it passes the limit, so an
unauthenticated sender cannot make the shim hold more than the limit in memory."""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` bytes (declared or sent)."""
    # Straight from the raw headers and ASGI messages, not through Headers and Request.stream():
    # the shim's hot path reads every hook this way.
    declared = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk, more = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
