"""The push-to-deploy demo app: shows its version, exposes health and Prometheus metrics, and
can be told to misbehave (APP_FAIL=crash|unready|5xx) to show a rollback."""

from __future__ import annotations

import os
import sys
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

VERSION = os.environ.get("APP_VERSION", "dev")
COMMIT = os.environ.get("APP_COMMIT", "unknown")
FAIL = os.environ.get("APP_FAIL", "")
REQUESTS = Counter("http_requests", "Requests by path and status", ["path", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Request latency by path", ["path"])

if FAIL == "crash":
    print("APP_FAIL=crash: exiting at start on purpose", file=sys.stderr, flush=True)
    sys.exit(3)


async def home(request: Request) -> Response:
    if FAIL == "5xx":
        return PlainTextResponse("failing on purpose (APP_FAIL=5xx)\n", status_code=500)
    return HTMLResponse(f"<!doctype html><title>sample-app {VERSION}</title>"
                        f"<h1>sample-app</h1><p>version <b>{VERSION}</b>, commit <code>{COMMIT}</code></p>")


async def version(request: Request) -> Response:
    return PlainTextResponse(f"{VERSION}\n", headers={"X-App-Version": VERSION})


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def readyz(request: Request) -> Response:
    if FAIL == "unready":
        return JSONResponse({"ready": False, "why": "APP_FAIL=unready"}, status_code=503)
    return JSONResponse({"ready": True})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class Measured:
    """Counts and times every request by path and status."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def send_with_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            path = scope["path"] if scope["path"] in PATHS else "other"
            REQUESTS.labels(path, str(status)).inc()
            LATENCY.labels(path).observe(time.perf_counter() - started)


PATHS = {"/", "/version", "/healthz", "/readyz", "/metrics"}
app = Measured(Starlette(routes=[Route("/", home), Route("/version", version), Route("/healthz", healthz),
                                 Route("/readyz", readyz), Route("/metrics", metrics)]))

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8080")),
                log_level="warning")
