"""POST /hook, Gitea's hooks into the outbox: the shim's hot path, as a raw ASGI app mounted ahead of
Starlette's router. Every hook goes through the same checks as ever, in the same pure functions
(request_body, signatures, decisions): body cap while reading, signature before anything is
parsed or stored, only the stored headers kept, no secret of the URL kept; and it is answered 202
only once its own row is durable. What it skips is Starlette's per-request machinery (middleware
layers, routing, Request and Response objects): measured, that was a fifth of the event loop's
time per hook."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import Counter
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from drone_kit.shim.decisions import STORED_HEADERS, query_without_secrets, stored_headers
from drone_kit.shim.group_commit import GroupCommitter
from drone_kit.shim.hook_payload import NotAHook, repository_name
from drone_kit.shim.metrics import ShimMetrics
from drone_kit.shim.outbox import NewHook
from drone_kit.shim.request_body import read_body
from drone_kit.shim.signatures import gitea_hook_authentic

# What the route reads of a hook's headers: what is stored, and the signature it checks.
HOOK_HEADERS = {name.encode(): name for name in (*STORED_HEADERS, "x-gitea-signature")}
_JSON = (b"content-type", b"application/json")
# How a 202 names the stored hook (its id in /deliveries), and says a delivery id was seen before.
HOOK_ID, DUPLICATE = b"x-drone-kit-hook-id", b"x-drone-kit-duplicate"


class HookFirst:
    """The shim's ASGI app: POST /hook straight to `hook`; anything else (other routes, other
    methods on /hook, the lifespan) to the Starlette app."""

    def __init__(self, hook: ASGIApp, app: ASGIApp) -> None:
        self.hook, self.app = hook, app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/hook" and scope["method"] == "POST":
            await self.hook(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class HookEndpoint:
    def __init__(self, hook_secret: str, max_body: int, committer: GroupCommitter, metrics: ShimMetrics,
                 clock: Callable[[], float]) -> None:
        self.hook_secret, self.max_body, self.committer, self.metrics = hook_secret, max_body, committer, metrics
        self.clock = clock
        self._received: dict[str, Any] = {}  # event → its child of metrics.received: labels() takes a lock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, self.max_body)
        except ClientDisconnect:  # nobody left to answer
            return
        if body is None:
            return await self._reject(send, "too-large", 413, f"body over {self.max_body} bytes")
        query = scope["query_string"].decode("latin-1")
        secret = parse_qs(query).get("secret", [""])[0] if query else ""
        headers = {}
        for name, value in scope["headers"]:
            key = HOOK_HEADERS.get(name)
            if key is not None:
                headers[key] = value.decode("latin-1")
        if not gitea_hook_authentic(body, headers.get("x-gitea-signature", ""), secret, self.hook_secret):
            return await self._reject(send, "signature", 401, "invalid webhook signature")
        try:
            repo = repository_name(body)
        except NotAHook as error:
            return await self._reject(send, "not-json", 400, str(error))
        event = headers.get("x-gitea-event", "")
        hook_id, duplicate = await self.committer.add(NewHook(
            headers.get("x-gitea-delivery", ""), repo, event, stored_headers(headers),
            query_without_secrets(query) if query else "", body, self.clock()))
        if not duplicate:
            self._counter(event or "unknown").inc()
        # The hook's id and whether it was a redelivery go in headers (Gitea shows them on the
        # delivery's Response tab), not in a body: uvicorn writes a response's head and its body
        # apart, and that second write was a tenth of the event loop's time per hook (measured).
        await send({"type": "http.response.start", "status": 202,
                    "headers": [(b"content-length", b"0"), (HOOK_ID, str(hook_id).encode()),
                                (DUPLICATE, b"true" if duplicate else b"false")]})
        await send({"type": "http.response.body", "body": b""})

    def _counter(self, event: str) -> Counter:
        child = self._received.get(event)
        if child is None:
            child = self._received[event] = self.metrics.received.labels(event)
        return child

    async def _reject(self, send: Send, reason: str, status: int, message: str) -> None:
        self.metrics.rejected.labels(reason).inc()
        # As Starlette's JSONResponse writes it.
        body = json.dumps({"message": message}, ensure_ascii=False, separators=(",", ":")).encode()
        await _answer(send, status, body)


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), _JSON]})
    await send({"type": "http.response.body", "body": body})

