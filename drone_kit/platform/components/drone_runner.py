"""The Drone Kubernetes runner: one pod that asks the server for work and runs each pipeline as a
pod in the build namespace, with just the rights that needs there. Pure.

drone_kit's build-push step builds images in its container, so it runs privileged; the runner
grants that only to images it is told of (it compares names without tags).
"""

from __future__ import annotations

import copy

from drone_kit import __version__
from drone_kit.platform.component import Component, LogCheck, Workload
from drone_kit.platform.components import drone_server
from drone_kit.platform.config import DRONE_NAMESPACE, PlatformConfig
from drone_kit.platform.objects import (
    Obj,
    Resources,
    container,
    deployment,
    env,
    http_probe,
    metadata,
    namespace,
    secret_env,
    service_account,
)

NAME = "drone-runner"
COMPONENT_NAME = "drone_runner"
PORT = 3000
HEALTH = "/healthz"  # answers 200 once the runner listens, whether or not the server answers it
RESOURCES = Resources("10m", "48Mi", "250m", "192Mi")
DRAIN_SECONDS = 3600  # on SIGTERM it waits for running pipelines; a build may take this long
RBAC = "rbac.authorization.k8s.io"
# What it does in the build namespace: a pod per pipeline, a Secret for its secrets (drone/charts).
BUILD_RULES = [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log"],
     "verbs": ["get", "create", "delete", "list", "watch", "update"]},
]


def privileged_images(config: PlatformConfig) -> list[str]:
    return [config.drone_kit_image("build-push", __version__)]


def runner(config: PlatformConfig) -> Obj:
    main = container(
        NAME, config.images.drone_runner, RESOURCES, ports={"http": PORT},
        readiness=http_probe(HEALTH, PORT), liveness=http_probe(HEALTH, PORT, period=20, failures=6),
        env=[env("DRONE_RPC_HOST", drone_server.rpc_host()),
             env("DRONE_RPC_PROTO", "http"),
             secret_env("DRONE_RPC_SECRET", drone_server.SECRETS.name, "rpc-secret"),
             env("DRONE_NAMESPACE_DEFAULT", config.drone.build_namespace),
             env("DRONE_RUNNER_CAPACITY", str(config.drone.runner_capacity)),
             env("DRONE_RUNNER_PRIVILEGED_IMAGES", ",".join(privileged_images(config)))])
    pod = {"containers": [main], "serviceAccountName": NAME,  # its token is how it creates build pods
           "terminationGracePeriodSeconds": DRAIN_SECONDS,
           # A Service named like a DRONE_* setting would otherwise set it (see drone_server).
           "enableServiceLinks": False}
    return deployment(COMPONENT_NAME, NAME, DRONE_NAMESPACE, pod, recreate=False)


def build_access(config: PlatformConfig) -> list[Obj]:
    """Pure: the Role in the build namespace and its binding to the runner's ServiceAccount."""
    build_namespace = config.drone.build_namespace
    return [
        {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": metadata(COMPONENT_NAME, NAME, build_namespace),
         "rules": copy.deepcopy(BUILD_RULES)},
        {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": metadata(COMPONENT_NAME, NAME, build_namespace),
         "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": NAME},
         "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": DRONE_NAMESPACE}]},
    ]


def render(config: PlatformConfig) -> list[Obj]:
    """Pure: the build namespace, the runner's account and rights, and the runner."""
    return [
        namespace(COMPONENT_NAME, config.drone.build_namespace),
        service_account(COMPONENT_NAME, NAME, DRONE_NAMESPACE),
        *build_access(config),
        runner(config),
    ]


COMPONENT = Component(
    name=COMPONENT_NAME,
    summary="the Drone Kubernetes runner: pipelines as pods in the build namespace",
    render=render,
    workloads=lambda config: [Workload("Deployment", DRONE_NAMESPACE, NAME)],
    # Its /healthz answers 200 whatever the server says; this line means the RPC secret and
    # DRONE_RPC_HOST are right (drone-runner-kube logs it once the server answers its ping).
    log_checks=lambda config: [LogCheck(DRONE_NAMESPACE, NAME, "successfully pinged the remote server")],
    depends_on=(drone_server.COMPONENT_NAME,),  # its namespace, its RPC secret, the server it polls
)
