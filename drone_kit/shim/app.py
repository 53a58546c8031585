"""The webhook shim: Gitea → (durable outbox) → Drone, and Drone's build events → metrics and
Grafana annotations. A Starlette app behind POST /hook's raw ASGI endpoint (`hook_endpoint`);
`drone_kit shim serve` runs it with uvicorn."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from drone_kit.clients.drone import DroneClient
from drone_kit.clients.grafana import GrafanaClient
from drone_kit.shim.config import ShimConfig
from drone_kit.shim.decisions import RetryLimits
from drone_kit.shim.deliveries import deliveries_query, delivery_summary
from drone_kit.shim.delivery import Relay
from drone_kit.shim.drone_events import build_facts, deploy_annotation
from drone_kit.shim.group_commit import GroupCommitter
from drone_kit.shim.hook_endpoint import HookEndpoint, HookFirst
from drone_kit.shim.metrics import ShimMetrics
from drone_kit.shim.outbox import Hook, Outbox
from drone_kit.shim.request_body import read_body
from drone_kit.shim.signatures import drone_event_problem
from drone_kit.step.cards import card_template


def create_app(config: ShimConfig, clock: Callable[[], float] = time.time) -> HookFirst:
    outbox, metrics = Outbox(config.outbox), ShimMetrics()
    committer = GroupCommitter(config.outbox, config.commit_batch)

    def on_result(hook: Hook, outcome: str, now: float) -> None:
        counters = {"delivered": metrics.delivered, "failed": metrics.failed, "inactive": metrics.ignored}
        counters.get(outcome, metrics.retried).inc()
        if outcome == "delivered":
            metrics.latency.observe(max(now - hook.received, 0))

    drone = DroneClient(config.drone_url, config.drone_token)
    grafana = GrafanaClient(config.grafana_url, config.grafana_token) if config.grafana_url else None
    relay = Relay(outbox, drone, config.hook_secret, config.auto_activate, config.retry_base, config.retry_max,
                  RetryLimits(config.retry_attempts, config.retry_age), config.retention, on_result=on_result,
                  clock=clock)

    def reject(reason: str, status: int, message: str) -> JSONResponse:
        metrics.rejected.labels(reason).inc()
        return JSONResponse({"message": message}, status_code=status)

    async def drone_events(request: Request) -> Response:
        body = await read_body(request.scope, request.receive, config.max_body)
        if body is None:
            return reject("too-large", 413, f"body over {config.max_body} bytes")
        problem = drone_event_problem(body, {k.lower(): v for k, v in request.headers.items()},
                                      config.webhook_secret, datetime.fromtimestamp(clock(), UTC))
        if not config.webhook_secret or problem:
            return reject("drone-signature", 401, problem or "no webhook secret configured")
        try:
            facts = build_facts(json.loads(body))
        except (ValueError, TypeError, KeyError, AttributeError):
            return reject("not-json", 400, "not a Drone webhook")
        if facts is not None:
            metrics.builds.labels(facts.repo, facts.status).inc()
            if facts.duration is not None:
                metrics.build_seconds.labels(facts.repo).observe(facts.duration)
            if facts.deploy:
                metrics.deploy_finished(facts.repo, facts.status == "success", facts.commit_time, facts.finished)
                if facts.status == "success" and grafana is not None:
                    await run_in_threadpool(grafana.annotate, deploy_annotation(facts))
        return Response(status_code=204)

    async def deliveries(request: Request) -> JSONResponse:
        try:
            query = deliveries_query(request.query_params)
        except ValueError as e:
            return JSONResponse({"message": str(e)}, status_code=400)
        hooks = await run_in_threadpool(outbox.page, query.limit, query.before, query.status, bodies=False)
        headers = {"Link": f'</deliveries?{query.next_page(hooks[-1].id)}>; rel="next"'} \
            if len(hooks) == query.limit else {}
        return JSONResponse([delivery_summary(h) for h in hooks], headers=headers)

    def read_outbox_gauges() -> None:
        depth, oldest = outbox.depth()
        metrics.depth.set(depth)
        metrics.oldest.set(clock() - oldest if oldest else 0)
        metrics.failed_now.set(outbox.count("failed"))

    # The outbox is read and locked off the event loop: a slow disk or a commit holding the lock
    # must not hold up the hooks coming in meanwhile.
    async def prometheus(request: Request) -> Response:
        await run_in_threadpool(read_outbox_gauges)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def card(request: Request) -> JSONResponse:
        found = card_template(request.path_params["kind"])
        if found is None:
            return JSONResponse({"message": "no such card"}, status_code=404)
        return JSONResponse(found, headers={"Access-Control-Allow-Origin": "*"})  # fetched by Drone's UI

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def readyz(request: Request) -> JSONResponse:
        checks = {"outbox_writable": await run_in_threadpool(outbox.writable),
                  "drone_reachable": await run_in_threadpool(drone.reachable)}
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True)
        worker.start()
        yield
        stop.set()
        worker.join(timeout=35)
        committer.close()

    hook = HookEndpoint(config.hook_secret, config.max_body, committer, metrics, clock)
    return HookFirst(hook, Starlette(routes=[
        Route("/hook", hook, methods=["POST"]), Route("/drone/events", drone_events, methods=["POST"]),
        Route("/deliveries", deliveries), Route("/metrics", prometheus), Route("/healthz", healthz),
        Route("/readyz", readyz), Route("/cards/{kind}.json", card),
    ], lifespan=lifespan))

