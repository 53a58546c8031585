"""drone_kit's webhook shim: Gitea's hooks committed to an outbox on a volume and relayed to Drone
until Drone has them; Drone's build events turned into metrics. Pure.

Its signers are generated here, once: Drone's server must be given the same values (the hook
signer as DRONE_FEATURE_SERVER_PROXY_SECRET, the other as DRONE_WEBHOOK_SECRET). The Drone admin
token only exists once Drone is wired to Gitea, so its Secret is optional until then.
"""

from __future__ import annotations

from drone_kit import __version__
from drone_kit.platform.component import Component, GeneratedSecret, HttpCheck, Workload
from drone_kit.platform.components import registry
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, PlatformConfig
from drone_kit.platform.objects import (
    Obj,
    Resources,
    container,
    deployment,
    http_probe,
    namespace,
    secret_env,
    service,
    volume_claim,
)

NAME = "shim"
PORT = 8080
DRONE_URL = "http://drone.drone.svc"  # Drone's Service `drone` in namespace `drone`, port 80
SIGNERS = GeneratedSecret(DRONE_KIT_NAMESPACE, "shim-signers", ("hook-secret", "webhook-secret"))
DRONE_TOKEN_SECRET, DRONE_TOKEN_KEY = "shim-drone-token", "token"  # created by the Gitea/Drone wiring
OUTBOX_CLAIM = "shim-outbox"
OUTBOX_DIR = "/var/lib/drone-kit"  # plugins/shim/Dockerfile's volume
# Measured under load: 66 MB resident at 4,600 hooks/s (issue #12's benchmark); a home lab sends
# a few a minute.
SIZE = Resources("25m", "96Mi", "500m", "192Mi")


def _container(config: PlatformConfig) -> Obj:
    # /healthz, not /readyz, for readiness: /readyz fails while Drone is down, and a shim taken out
    # of its Service then would lose exactly the hooks it exists to keep.
    return container(
        NAME, config.drone_kit_image(NAME, __version__), SIZE, ports={"http": PORT},
        readiness=http_probe("/healthz", "http"), liveness=http_probe("/healthz", "http", period=20, delay=10),
        command=["drone_kit", "shim", "serve"],
        args=["--listen", f"0.0.0.0:{PORT}", "--drone-url", DRONE_URL, "--outbox", f"{OUTBOX_DIR}/outbox.sqlite",
              "--retention", config.shim.retention],
        env=[secret_env("DRONE_KIT_SHIM_HOOK_SECRET", SIGNERS.name, "hook-secret"),
             secret_env("DRONE_KIT_SHIM_WEBHOOK_SECRET", SIGNERS.name, "webhook-secret"),
             _optional(secret_env("DRONE_KIT_SHIM_DRONE_TOKEN", DRONE_TOKEN_SECRET, DRONE_TOKEN_KEY))],
        volumeMounts=[{"name": "outbox", "mountPath": OUTBOX_DIR}],
    )


def _optional(ref: Obj) -> Obj:
    ref["valueFrom"]["secretKeyRef"]["optional"] = True
    return ref


def render(config: PlatformConfig) -> list[Obj]:
    pod_spec = {
        "containers": [_container(config)],
        "volumes": [{"name": "outbox", "persistentVolumeClaim": {"claimName": OUTBOX_CLAIM}}],
        "automountServiceAccountToken": False,  # it never talks to the API server
        # Service links put <SERVICE>_PORT-style variables in the environment, which its options are
        # read from: a Service named drone-kit-shim would set DRONE_KIT_SHIM_* (as drone-server does
        # DRONE_SERVER_PORT to Drone).
        "enableServiceLinks": False,
    }
    scrape = {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT), "prometheus.io/path": "/metrics"}
    return [
        namespace(NAME, DRONE_KIT_NAMESPACE),
        volume_claim(NAME, OUTBOX_CLAIM, DRONE_KIT_NAMESPACE, config.shim.storage, config.server.storage_class),
        # Recreate: one SQLite outbox has one writer, and its volume is pinned to a node.
        deployment(NAME, NAME, DRONE_KIT_NAMESPACE, pod_spec, recreate=True, pod_annotations=scrape),
        service(NAME, NAME, DRONE_KIT_NAMESPACE, {"http": (80, PORT)}),
    ]


COMPONENT = Component(
    name="shim",
    summary="drone_kit's webhook shim: every Gitea push kept in an outbox until Drone has it",
    render=render,
    secrets=lambda config: [SIGNERS],
    workloads=lambda config: [Workload("Deployment", DRONE_KIT_NAMESPACE, NAME)],
    checks=lambda config: [HttpCheck(DRONE_KIT_NAMESPACE, NAME, 80, "/healthz")],
    url=lambda config: f"http://{NAME}.{DRONE_KIT_NAMESPACE}.svc",
    depends_on=(registry.NAME,),  # its image is in the platform's registry
)
