"""Drone as the platform runs it, for the wiring tests: its Deployment on the suite's real node
(bootstrap's own Drone container spec, its environment and Secrets, but a stand-in that only
answers /healthz), and the Drone fake (tests/fakes/drone_gitea.py) playing the server. Whenever
the Deployment's pod template changes, as a rollout restarts the pod, the fake is restarted with
the environment the new pod would get, read from the node: the same values, the same Secrets.

The pod would reach Gitea at its LAN address (DRONE_GITEA_SERVER); here Gitea is the fake on
loopback, so that one value is translated, as the network would route it. Nothing else is.
"""

from __future__ import annotations

import threading

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform import objects as o
from drone_kit.platform.cluster_facts import container_env
from drone_kit.platform.components import drone_server, shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, DRONE_NAMESPACE, PlatformConfig
from tests.fakes.drone_gitea import DroneOnGitea
from tests.fakes.drone_gitea_config import DroneConfig

HEALTHZ = ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"]
SMALL = o.Resources("10m", "16Mi", "100m", "32Mi")


def standin_deployment(component: str, name: str, namespace: str, image: str, like: o.Obj | None = None) -> o.Obj:
    """A Deployment whose container has `like`'s environment (bootstrap's rendering) and runs busybox."""
    container = o.container(name, image, SMALL, ports={"http": 8080}, command=HEALTHZ,
                            readiness=o.http_probe("/healthz", "http", period=1))
    for key in ("env", "envFrom"):
        if like and like.get(key):
            container[key] = like[key]
    return o.deployment(component, name, namespace, {"containers": [container]}, recreate=True)


def drone_and_shim(config: PlatformConfig, image: str) -> list[o.Obj]:
    rendered = drone_server.server(config)["spec"]["template"]["spec"]["containers"][0]
    return [o.namespace("test", DRONE_NAMESPACE), o.namespace("test", DRONE_KIT_NAMESPACE),
            standin_deployment("drone_server", "drone", DRONE_NAMESPACE, image, like=rendered),
            standin_deployment("shim", shim.NAME, DRONE_KIT_NAMESPACE, image)]


class DroneOnTheNode:
    """Restarts `drone` with the node's environment for Drone at each new pod template."""

    def __init__(self, cluster: ClusterObjects, drone: DroneOnGitea, gitea_url: str) -> None:
        self.cluster, self.drone, self.gitea_url = cluster, drone, gitea_url
        self.restarts = 0
        self._seen: object = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def __enter__(self) -> DroneOnTheNode:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.drone.stop()

    def environment(self) -> dict[str, str]:
        live = self.cluster.get("apps/v1", "Deployment", "drone", DRONE_NAMESPACE) or {}
        container = live["spec"]["template"]["spec"]["containers"][0]
        return container_env(container, DRONE_NAMESPACE, [], self.cluster.list_of("v1", "Secret", DRONE_NAMESPACE))

    def _follow(self) -> None:
        while not self._stop.wait(0.3):
            live = self.cluster.get("apps/v1", "Deployment", "drone", DRONE_NAMESPACE)
            template = (live or {}).get("spec", {}).get("template")
            if template is None or template == self._seen:
                continue
            self._seen = template
            config = DroneConfig.from_env({**self.environment(), "DRONE_GITEA_SERVER": self.gitea_url})
            if self.drone.running:
                self.drone.restart(config)
            else:
                self.drone.start(config)
            self.restarts += 1
