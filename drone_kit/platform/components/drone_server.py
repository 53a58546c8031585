"""The Drone server: SQLite on a volume, at a fixed MetalLB address, logging in through Gitea. Pure.

Its Service is `drone`, never `drone-server`: Kubernetes would put DRONE_SERVER_PORT=tcp://… in
the pod's environment, which Drone reads as its listen address and refuses to start with. Service
links are off as well, for the same reason.

Gitea's OAuth client for Drone, the shim as hook and event target and the admin's token come
later, when Drone is wired to Gitea (wiring_plan.py): they are the wiring Secret's keys, taken as
environment when it exists, so the server starts (and answers /healthz) before that. Drone picks
Gitea as its source host from DRONE_GITEA_SERVER alone; without a client id only the login is
missing. The wiring restarts the pod when the Secret changes: environment is read at start.
"""

from __future__ import annotations

from drone_kit.platform.component import Component, GeneratedSecret, HttpCheck, Workload
from drone_kit.platform.config import DRONE_NAMESPACE, PlatformConfig
from drone_kit.platform.objects import (
    Obj,
    Resources,
    container,
    deployment,
    env,
    http_probe,
    namespace,
    secret_env,
    service,
    volume_claim,
)

NAME = "drone"  # the Service, the Deployment and the volume
COMPONENT_NAME = "drone_server"
PORT = 80
HEALTH = "/healthz"
DATA_DIR = "/data"
# Drone encrypts repository secrets with the database secret as an AES-256 key: exactly 32 bytes.
SECRETS = GeneratedSecret(DRONE_NAMESPACE, "drone-secrets", ("rpc-secret", "database-secret", "cookie-secret"),
                          sizes=(("database-secret", 32),))
WIRING_SECRET = "drone-wiring"  # made by the Gitea/Drone wiring: DRONE_* keys
RESOURCES = Resources("25m", "64Mi", "500m", "256Mi")  # ~30 MiB idle


def rpc_host() -> str:
    """Where runners reach the server inside the cluster: the Service, namespace-qualified."""
    return f"{NAME}.{DRONE_NAMESPACE}.svc:{PORT}"


def server(config: PlatformConfig) -> Obj:
    main = container(
        NAME, config.images.drone, RESOURCES, ports={"http": PORT},
        readiness=http_probe(HEALTH, PORT), liveness=http_probe(HEALTH, PORT, period=20, failures=6),
        startupProbe=http_probe(HEALTH, PORT, failures=30),  # the first start creates the database
        env=[env("DRONE_SERVER_HOST", config.drone.ip),
             env("DRONE_SERVER_PROTO", "http"),
             env("DRONE_SERVER_PORT", f":{PORT}"),
             env("DRONE_GITEA_SERVER", config.gitea.root_url().rstrip("/")),
             secret_env("DRONE_RPC_SECRET", SECRETS.name, "rpc-secret"),
             # Set before the first repository secret is stored: Drone cannot encrypt afterwards.
             secret_env("DRONE_DATABASE_SECRET", SECRETS.name, "database-secret"),
             # Else a new random one at every start, and everyone is logged out.
             secret_env("DRONE_COOKIE_SECRET", SECRETS.name, "cookie-secret"),
             env("DRONE_DATABASE_DRIVER", "sqlite3"),
             env("DRONE_DATABASE_DATASOURCE", f"{DATA_DIR}/database.sqlite"),
             env("DRONE_DATADOG_ENABLED", "false")],  # a home lab may have no internet: no usage reports
        volumeMounts=[{"name": "data", "mountPath": DATA_DIR}],
        envFrom=[{"secretRef": {"name": WIRING_SECRET, "optional": True}}])
    pod = {"containers": [main], "automountServiceAccountToken": False, "enableServiceLinks": False,
           "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": NAME}}]}
    return deployment(COMPONENT_NAME, NAME, DRONE_NAMESPACE, pod, recreate=True)


def render(config: PlatformConfig) -> list[Obj]:
    """Pure: the namespace, the volume, the server and its LoadBalancer Service."""
    return [
        namespace(COMPONENT_NAME, DRONE_NAMESPACE),
        volume_claim(COMPONENT_NAME, NAME, DRONE_NAMESPACE, config.drone.storage, config.server.storage_class),
        server(config),
        service(COMPONENT_NAME, NAME, DRONE_NAMESPACE, {"http": (PORT, PORT)}, service_type="LoadBalancer",
                load_balancer_ip=config.drone.ip),
    ]


COMPONENT = Component(
    name=COMPONENT_NAME,
    summary="the Drone server: SQLite on a volume, a fixed address, login through Gitea",
    render=render,
    secrets=lambda config: [SECRETS],
    workloads=lambda config: [Workload("Deployment", DRONE_NAMESPACE, NAME)],
    checks=lambda config: [HttpCheck(DRONE_NAMESPACE, NAME, PORT, HEALTH)],
    url=lambda config: f"http://{config.drone.ip}/",
    depends_on=("metallb", "gitea"),  # its address; Gitea is where its users log in
)
