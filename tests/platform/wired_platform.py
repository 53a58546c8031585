"""A platform wired as `drone_kit wire` leaves it, for the tests that need one: the suite's real
node holding the Secrets, Drone's and the shim's Deployments as bootstrap renders them (stand-in
containers), and the fakes of Gitea and Drone on loopback, Drone restarted with the node's
environment for it at each rollout (drone_on_the_node.py). Shared by the wire and loop tests."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client as k8s

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform import objects as o
from drone_kit.platform.components import drone_server, gitea, shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, DRONE_NAMESPACE, GITEA_NAMESPACE, PlatformConfig
from drone_kit.platform.secrets_store import ensure_secret, read_value
from drone_kit.platform.wire import DRONE_TOKEN
from drone_kit.platform.wiring_plan import GITEA_TOKEN_SECRET, WIRING_SECRET
from tests.fakes.drone_gitea import DroneOnGitea
from tests.fakes.gitea import FakeGitea
from tests.platform.drone_on_the_node import DroneOnTheNode, drone_and_shim
from tests.platform.platform_stack import DRONE_KIT, namespaces_gone

NAMESPACES = [GITEA_NAMESPACE, DRONE_NAMESPACE, DRONE_KIT_NAMESPACE]


@dataclass
class Wired:
    cluster: ClusterObjects
    gitea: FakeGitea
    drone: DroneOnGitea
    node: DroneOnTheNode
    kubeconfig: Path
    work: Path
    password: str
    config_args: tuple[str, ...] = ()  # --config FILE, when not the defaults

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """A drone_kit command (wire, demo) on this platform, as an operator runs it."""
        return subprocess.run([*DRONE_KIT, *args[:1], *self.config_args, "--kubeconfig", str(self.kubeconfig),
                               "--gitea-url", self.gitea.url, "--drone-url", self.drone.url, *args[1:]],
                              cwd=self.work, capture_output=True, text=True, timeout=timeout)

    def secrets(self) -> list[str]:
        """Every secret value wiring touches, to grep printed output for."""
        found = [self.password, read_value(self.cluster, DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, "token"),
                 read_value(self.cluster, DRONE_TOKEN.namespace, DRONE_TOKEN.name, "token")]
        found += [read_value(self.cluster, DRONE_NAMESPACE, WIRING_SECRET, key) for key in (
            "DRONE_GITEA_CLIENT_SECRET", "DRONE_FEATURE_SERVER_PROXY_SECRET", "DRONE_WEBHOOK_SECRET")]
        return [value for value in found if value]


def rolled_out(cluster: ClusterObjects, namespace: str, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = cluster.get("apps/v1", "Deployment", name, namespace) or {}
        status = live.get("status") or {}
        if status.get("readyReplicas") == 1 and status.get("observedGeneration") == live["metadata"]["generation"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"{namespace}/{name} never became ready")


@contextlib.contextmanager
def wired_platform(cluster: ClusterObjects, kubeconfig: str, base_image: str, work: Path,
                   config: PlatformConfig, config_args: tuple[str, ...] = ()) -> Iterator[Wired]:
    """The platform before `drone_kit wire`; wired by the test. Its namespaces go at the end."""
    namespaces_gone(cluster, NAMESPACES)  # an earlier module's
    cluster.apply(o.namespace("test", GITEA_NAMESPACE))
    for spec in (gitea.admin_secret(config), shim.SIGNERS):
        cluster.apply(o.namespace("test", spec.namespace))
        ensure_secret(cluster, spec)
    for obj in drone_and_shim(config, base_image):
        cluster.apply(obj)
    ensure_secret(cluster, drone_server.SECRETS)
    rolled_out(cluster, DRONE_NAMESPACE, "drone")
    password = read_value(cluster, GITEA_NAMESPACE, gitea.ADMIN_SECRET, "password") or ""
    (work / "kubeconfig").write_text(kubeconfig)
    try:
        # Gitea was installed by bootstrap: its admin made from the Secret by the init container.
        with FakeGitea(config.gitea.admin_user, password, allowed_host_list="loopback") as fake_gitea, \
                DroneOnGitea() as drone, DroneOnTheNode(cluster, drone, fake_gitea.url) as node:
            yield Wired(cluster, fake_gitea, drone, node, work / "kubeconfig", work, password, config_args)
    finally:
        for namespace in NAMESPACES:
            k8s.CoreV1Api(cluster.api_client).delete_namespace(namespace)
        namespaces_gone(cluster, NAMESPACES)
