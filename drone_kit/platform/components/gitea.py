"""Gitea with SQLite on a volume, at a fixed MetalLB address, and its first admin. Pure.

Gitea is configured by GITEA__section__KEY variables, which the image writes into
/data/gitea/conf/app.ini; its keys and tokens come from a Secret generated once.

The admin is made the way Gitea's own Helm chart makes it: by init containers, before the server
starts. The first runs the image's own setup (as root: it renders app.ini on a new volume and
gives the volume to `git`); the second, as `git` (the CLI refuses root), migrates the database
and creates the admin, or re-syncs its password from the Secret if it exists. Nothing runs beside
the server on its SQLite file, nothing needs the cluster's network, it happens at every start, and
the pod is Ready only once the admin exists.
"""

from __future__ import annotations

from drone_kit.platform.component import Component, GeneratedSecret, HttpCheck, Workload
from drone_kit.platform.config import GITEA_NAMESPACE, PlatformConfig
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

NAME = "gitea"
HEALTH = "/api/healthz"
APP_INI = "/data/gitea/conf/app.ini"
IMAGE_SETUP = "/etc/s6/gitea/setup"  # what the rootful image runs at start, before the server
GIT_USER = 1000  # the rootful image's `git`
KEYS = GeneratedSecret(GITEA_NAMESPACE, "gitea-secrets", ("secret-key", "internal-token"))
ADMIN_SECRET = "gitea-admin"
RESOURCES = Resources("50m", "192Mi", "1", "512Mi")  # ~120 MiB idle; git operations spike
SETUP_RESOURCES = Resources("10m", "16Mi", "200m", "64Mi")
ADMIN_RESOURCES = Resources("10m", "64Mi", "500m", "256Mi")  # the CLI loads all of Gitea

# Reads ADMIN_USER, ADMIN_PASSWORD, ADMIN_EMAIL and APP_INI from its environment.
ADMIN_SCRIPT = """set -eu
gitea --config "$APP_INI" migrate
users=$(gitea --config "$APP_INI" admin user list)
if printf '%s\\n' "$users" | awk 'NR > 1 {print $2}' | grep -qx -- "$ADMIN_USER"; then
  gitea --config "$APP_INI" admin user change-password --username "$ADMIN_USER" --password "$ADMIN_PASSWORD"
  gitea --config "$APP_INI" admin user must-change-password --unset "$ADMIN_USER"
  echo "admin $ADMIN_USER existed: password re-synced"
else
  gitea --config "$APP_INI" admin user create --admin --username "$ADMIN_USER" --password "$ADMIN_PASSWORD" \\
    --email "$ADMIN_EMAIL" --must-change-password=false
  echo "admin $ADMIN_USER created"
fi
"""


def admin_secret(config: PlatformConfig) -> GeneratedSecret:
    # The name is kept with the password, so whoever reads the Secret gets a pair that works.
    return GeneratedSecret(GITEA_NAMESPACE, ADMIN_SECRET, ("password",),
                           fixed=(("username", config.gitea.admin_user),))


def settings(config: PlatformConfig) -> list[Obj]:
    """Pure: Gitea's configuration as GITEA__section__KEY variables."""
    return [env("GITEA__database__DB_TYPE", "sqlite3"),  # the default is mysql
            env("GITEA__server__ROOT_URL", config.gitea.root_url()),
            env("GITEA__server__DOMAIN", config.gitea.ip),
            env("GITEA__server__SSH_DOMAIN", config.gitea.ip),
            env("GITEA__server__HTTP_PORT", str(config.gitea.http_port)),
            env("GITEA__server__DISABLE_SSH", "true"),  # clones are over HTTP; no port 22 to expose
            env("GITEA__security__INSTALL_LOCK", "true"),
            secret_env("GITEA__security__SECRET_KEY", KEYS.name, "secret-key"),
            secret_env("GITEA__security__INTERNAL_TOKEN", KEYS.name, "internal-token"),
            # Gitea's default (external) drops hooks to Drone's LAN address and the cluster's. The
            # key moves from [webhook] to [security] in later Gitea (which still reads the old one).
            env("GITEA__webhook__ALLOWED_HOST_LIST", "private"),
            env("GITEA__security__ALLOWED_HOST_LIST", "private"),
            env("GITEA__service__DISABLE_REGISTRATION", "true")]


def init_containers(config: PlatformConfig) -> list[Obj]:
    """Pure: the image's setup as root, then the database and the admin as `git`. Init
    containers take no probes: each is done when it exits 0."""
    data = [{"name": "data", "mountPath": "/data"}]
    setup = {"name": "setup", "image": config.images.gitea, "imagePullPolicy": "IfNotPresent",
             "resources": SETUP_RESOURCES.as_dict(), "command": [IMAGE_SETUP], "env": settings(config),
             "securityContext": {"runAsUser": 0}, "volumeMounts": data}
    secret = admin_secret(config).name
    admin = {"name": "admin", "image": config.images.gitea, "imagePullPolicy": "IfNotPresent",
             "resources": ADMIN_RESOURCES.as_dict(), "command": ["/bin/sh", "-c", ADMIN_SCRIPT],
             "env": [secret_env("ADMIN_USER", secret, "username"), secret_env("ADMIN_PASSWORD", secret, "password"),
                     env("ADMIN_EMAIL", config.gitea.admin_email), env("APP_INI", APP_INI)],
             "securityContext": {"runAsUser": GIT_USER, "runAsGroup": GIT_USER, "runAsNonRoot": True},
             "volumeMounts": data}
    return [setup, admin]


def gitea(config: PlatformConfig) -> Obj:
    port = config.gitea.http_port
    main = container(
        NAME, config.images.gitea, RESOURCES, ports={"http": port},
        readiness=http_probe(HEALTH, port), liveness=http_probe(HEALTH, port, period=20, failures=6),
        startupProbe=http_probe(HEALTH, port, failures=30),
        env=settings(config), volumeMounts=[{"name": "data", "mountPath": "/data"}])
    pod = {"initContainers": init_containers(config), "containers": [main],
           "automountServiceAccountToken": False, "enableServiceLinks": False,
           "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": NAME}}]}
    return deployment(NAME, NAME, GITEA_NAMESPACE, pod, recreate=True)


def render(config: PlatformConfig) -> list[Obj]:
    """Pure: the namespace, the volume, Gitea and its LoadBalancer Service."""
    port = config.gitea.http_port
    return [
        namespace(NAME, GITEA_NAMESPACE),
        volume_claim(NAME, NAME, GITEA_NAMESPACE, config.gitea.storage, config.server.storage_class),
        gitea(config),
        service(NAME, NAME, GITEA_NAMESPACE, {"http": (port, port)}, service_type="LoadBalancer",
                load_balancer_ip=config.gitea.ip),
    ]


COMPONENT = Component(
    name=NAME,
    summary="Gitea: SQLite on a volume, a fixed address, its first admin",
    render=render,
    secrets=lambda config: [KEYS, admin_secret(config)],
    workloads=lambda config: [Workload("Deployment", GITEA_NAMESPACE, NAME)],
    checks=lambda config: [HttpCheck(GITEA_NAMESPACE, NAME, config.gitea.http_port, HEALTH)],
    url=lambda config: config.gitea.root_url(),
    depends_on=("metallb",),  # its address, which ROOT_URL and every clone URL name
)
