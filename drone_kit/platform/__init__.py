"""Installing the platform on k3s (MetalLB, registry, Gitea, Drone, Prometheus, Grafana, the
shim): where its components, rendering, applying, wiring, `doctor` and `status` will live.

A feature package: builds on the clients and image facts; never imports the plugins, shim or
pipelines, nor the CLI.
"""
