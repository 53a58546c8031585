"""A small web app for the verify tests: it reports its version and serves Prometheus metrics,
and can be told to misbehave (answer 5xx) or to become another version, through /control.

    python -m uvicorn tests.fakes.app:app --host 127.0.0.1 --port PORT
"""

from __future__ import annotations

from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

state = {"version": "v1", "mode": "ok"}
requests_total: Counter = Counter()


def _answer(body: str, status: int = 200) -> PlainTextResponse:
    requests_total[(state["version"], str(status))] += 1
    return PlainTextResponse(body, status_code=status, headers={"X-App-Version": state["version"]})


async def home(request: Request) -> PlainTextResponse:
    if state["mode"] == "5xx":
        return _answer("internal error\n", 500)
    return _answer(f"hello from {state['version']}\n")


async def version(request: Request) -> PlainTextResponse:
    return _answer(state["version"] + "\n")


async def metrics(request: Request) -> PlainTextResponse:
    lines = ["# TYPE app_requests_total counter"]
    lines += [f'app_requests_total{{version="{v}",status="{s}"}} {n}' for (v, s), n in sorted(requests_total.items())]
    return PlainTextResponse("\n".join(lines) + "\n")


async def control(request: Request) -> JSONResponse:
    state.update(await request.json())
    return JSONResponse(state)


app = Starlette(routes=[Route("/", home), Route("/version", version), Route("/metrics", metrics),
                        Route("/control", control, methods=["POST"])])
