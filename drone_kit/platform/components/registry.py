"""The platform's image registry (distribution, `registry:2`): plain HTTP on a NodePort of every
node, so image names read `<server.address>:<registry.node_port>/<project>/<app>`. Pure.

It runs on the server node: its volume (local-path) lives on the node that first ran it, and the
server is the node with the disk and the one address everyone already knows.
"""

from __future__ import annotations

from drone_kit.platform.component import Component, HttpCheck, Workload
from drone_kit.platform.config import REGISTRY_NAMESPACE, PlatformConfig
from drone_kit.platform.objects import (
    Obj,
    Resources,
    container,
    deployment,
    env,
    http_probe,
    namespace,
    service,
    volume_claim,
)

NAME = "registry"
PORT = 5000
DATA_DIR = "/var/lib/registry"
HEALTH = "/v2/"  # 200 with an empty body when no auth is configured
HOSTNAME_LABEL = "kubernetes.io/hostname"
# k3s labels its server nodes with both; either may be the only one left on other distributions.
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
# Idle it needs ~15 MiB; pushes of big layers buffer more.
RESOURCES = Resources("10m", "48Mi", "500m", "256Mi")


def server_node_affinity(config: PlatformConfig) -> Obj:
    """Pure: the pod spec fields that put a pod on the server node: by name when
    `server.node` says it, else on any node labelled control plane."""
    if config.server.node:
        return {"nodeSelector": {HOSTNAME_LABEL: config.server.node}}
    terms = [{"matchExpressions": [{"key": label, "operator": "Exists"}]} for label in CONTROL_PLANE_LABELS]
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": terms}}}}


def registry(config: PlatformConfig) -> Obj:
    main = container(
        NAME, config.images.registry, RESOURCES, ports={"http": PORT},
        readiness=http_probe(HEALTH, PORT), liveness=http_probe(HEALTH, PORT, period=20, failures=6),
        env=[env("REGISTRY_STORAGE_DELETE_ENABLED", "true"),  # else DELETE of a manifest answers UNSUPPORTED
             env("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", DATA_DIR)],
        volumeMounts=[{"name": "data", "mountPath": DATA_DIR}])
    pod = {"containers": [main], "automountServiceAccountToken": False,
           # The registry reads every REGISTRY_* variable as configuration, and the Service named
           # `registry` would add REGISTRY_PORT=tcp://… and friends.
           "enableServiceLinks": False,
           "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": NAME}}],
           **server_node_affinity(config)}
    return deployment(NAME, NAME, REGISTRY_NAMESPACE, pod, recreate=True)


def render(config: PlatformConfig) -> list[Obj]:
    """Pure: the namespace, the volume, the Deployment and the NodePort Service."""
    return [
        namespace(NAME, REGISTRY_NAMESPACE),
        volume_claim(NAME, NAME, REGISTRY_NAMESPACE, config.registry.storage, config.server.storage_class),
        registry(config),
        service(NAME, NAME, REGISTRY_NAMESPACE, {"http": (PORT, PORT)}, service_type="NodePort",
                node_ports={"http": config.registry.node_port}),
    ]


COMPONENT = Component(
    name=NAME,
    summary="the image registry: plain HTTP on every node's NodePort, deletes enabled",
    render=render,
    workloads=lambda config: [Workload("Deployment", REGISTRY_NAMESPACE, NAME)],
    checks=lambda config: [HttpCheck(REGISTRY_NAMESPACE, NAME, PORT, HEALTH)],
    url=lambda config: f"http://{config.registry_host}{HEALTH}",
)
