"""The webhook shim between Gitea, Drone and Grafana: the Starlette app, the durable outbox,
in-order delivery to Drone, webhook signatures, the facts in Drone's build events, and the
Prometheus metrics drawn from them.

A feature package: talks to Drone and Grafana only through `drone_kit.clients`; never imports the
plugins, pipelines, platform or the CLI (which serves it with uvicorn).
"""
