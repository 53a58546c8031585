"""Every adapter to an outside system, and nothing else talks to one: the Docker engine (and a
dockerd of the step's own), containers for local runs, the registry, Kubernetes (and the
kubeconfig), Prometheus, git, Drone's API, Grafana's API, and plain HTTP checks; plus the one
retry policy they share.

Each adapter turns its library's errors into DroneKitError (or says what failed in data), so
the rest of drone_kit never imports requests, docker, kubernetes, urllib3 or tenacity. Imports
`drone_kit.images` and `drone_kit.errors`; never the step contract, rollouts, features or the CLI.
"""
