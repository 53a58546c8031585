"""Grafana at a fixed MetalLB address, with Prometheus provisioned as its datasource under a
fixed uid and the platform's dashboards as ConfigMaps. Pure: everything here is computed from
the `PlatformConfig`.

Its data lives on a small volume, not an emptyDir: the deploy annotations the shim posts are
stored in Grafana's database and are the history the deployments dashboard shows; an emptyDir
would lose them at every restart. The datasource and dashboards are provisioned, so they come
back either way.
"""

from __future__ import annotations

import json

import yaml

from drone_kit.platform.component import Component, GeneratedSecret, HttpCheck, Workload
from drone_kit.platform.components.prometheus import HASH_ANNOTATION
from drone_kit.platform.components.prometheus import NAME as PROMETHEUS
from drone_kit.platform.components.prometheus import PORT as PROMETHEUS_PORT
from drone_kit.platform.config import MONITORING_NAMESPACE, PlatformConfig
from drone_kit.platform.dashboards import DATASOURCE_UID, all_dashboards, deployments
from drone_kit.platform.objects import (
    Obj,
    Resources,
    config_map,
    container,
    content_hash,
    deployment,
    env,
    http_probe,
    secret_env,
    service,
    volume_claim,
)

NAME = "grafana"
PORT = 3000
SERVICE_PORT = 80
SECRET = "grafana-secrets"
ADMIN_USER = "admin"
STORAGE = "1Gi"  # SQLite: users, annotations; dashboards are provisioned, not stored
GRAFANA_USER = 472  # the user the upstream image runs as
RESOURCES = Resources("50m", "128Mi", "500m", "384Mi")
PROVISIONING = "/etc/grafana/provisioning"
DASHBOARDS_DIR = "/etc/grafana/dashboards"
HOME_DASHBOARD = f"{deployments.UID}.json"  # the page Grafana opens on
DATASOURCES = f"{NAME}-datasources"
PROVIDERS = f"{NAME}-dashboard-providers"


def datasource_url() -> str:
    return f"http://{PROMETHEUS}.{MONITORING_NAMESPACE}.svc:{PROMETHEUS_PORT}"


def datasources() -> Obj:
    """Pure: the provisioned datasource; `editable: false` so a UI edit cannot drift from it."""
    return {"apiVersion": 1, "datasources": [
        {"name": "Prometheus", "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
         "url": datasource_url(), "isDefault": True, "editable": False}]}


def providers() -> Obj:
    return {"apiVersion": 1, "providers": [
        {"name": "drone-kit", "orgId": 1, "folder": "drone_kit", "type": "file", "disableDeletion": True,
         "allowUiUpdates": False, "updateIntervalSeconds": 60, "options": {"path": DASHBOARDS_DIR}}]}


def dashboard_maps() -> list[Obj]:
    """Pure: one ConfigMap per dashboard (a ConfigMap holds at most 1 MiB)."""
    return [config_map(NAME, f"{NAME}-dashboard-{board['uid']}", MONITORING_NAMESPACE,
                       {f"{board['uid']}.json": json.dumps(board, indent=1, sort_keys=True)})
            for board in all_dashboards()]


def grafana(config: PlatformConfig, provisioning: list[Obj], dashboards: list[Obj]) -> Obj:
    health = "/api/health"
    main = container(
        NAME, config.images.grafana, RESOURCES, ports={"http": PORT},
        readiness=http_probe(health, PORT), liveness=http_probe(health, PORT, failures=6),
        # The first start migrates a new SQLite database, minutes on an SD card.
        startupProbe=http_probe(health, PORT, failures=30),
        env=[secret_env("GF_SECURITY_ADMIN_USER", SECRET, "admin-user"),
             secret_env("GF_SECURITY_ADMIN_PASSWORD", SECRET, "admin-password"),
             secret_env("GF_SECURITY_SECRET_KEY", SECRET, "secret-key"),  # else the well-known default
             env("GF_SERVER_ROOT_URL", f"http://{config.monitoring.grafana_ip}/"),
             env("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", f"{DASHBOARDS_DIR}/{HOME_DASHBOARD}"),
             # A home lab may have no internet: no calls out to grafana.com.
             env("GF_ANALYTICS_REPORTING_ENABLED", "false"), env("GF_ANALYTICS_CHECK_FOR_UPDATES", "false"),
             env("GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "false")],
        volumeMounts=[{"name": "data", "mountPath": "/var/lib/grafana"},
                      {"name": "datasources", "mountPath": f"{PROVISIONING}/datasources", "readOnly": True},
                      {"name": "providers", "mountPath": f"{PROVISIONING}/dashboards", "readOnly": True},
                      {"name": "dashboards", "mountPath": DASHBOARDS_DIR, "readOnly": True}])
    pod = {"containers": [main], "automountServiceAccountToken": False,
           "securityContext": {"runAsUser": GRAFANA_USER, "runAsGroup": GRAFANA_USER, "fsGroup": GRAFANA_USER,
                               "runAsNonRoot": True},
           "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": NAME}},
                       {"name": "datasources", "configMap": {"name": DATASOURCES}},
                       {"name": "providers", "configMap": {"name": PROVIDERS}},
                       {"name": "dashboards", "projected": {"sources": [
                           {"configMap": {"name": board["metadata"]["name"]}} for board in dashboards]}}]}
    # Provisioning is read at start only, so a change to it rolls the pod; dashboards are re-read
    # from their mounted files every minute, so a changed dashboard needs no restart.
    return deployment(NAME, NAME, MONITORING_NAMESPACE, pod, recreate=True,
                      pod_annotations={HASH_ANNOTATION: content_hash([m["data"] for m in provisioning])})


def render(config: PlatformConfig) -> list[Obj]:
    """Pure: provisioning, dashboards, volume, Deployment and the LoadBalancer Service."""
    provisioning = [config_map(NAME, DATASOURCES, MONITORING_NAMESPACE,
                               {"prometheus.yaml": yaml.safe_dump(datasources(), sort_keys=False)}),
                    config_map(NAME, PROVIDERS, MONITORING_NAMESPACE,
                               {"drone-kit.yaml": yaml.safe_dump(providers(), sort_keys=False)})]
    dashboards = dashboard_maps()
    return [*provisioning, *dashboards,
            volume_claim(NAME, NAME, MONITORING_NAMESPACE, STORAGE, config.server.storage_class),
            grafana(config, provisioning, dashboards),
            service(NAME, NAME, MONITORING_NAMESPACE, {"http": (SERVICE_PORT, PORT)}, service_type="LoadBalancer",
                    load_balancer_ip=config.monitoring.grafana_ip)]


COMPONENT = Component(
    name=NAME,
    summary="Grafana: the Prometheus datasource, the cluster and deployments dashboards",
    render=render,
    secrets=lambda config: [GeneratedSecret(MONITORING_NAMESPACE, SECRET, ("admin-password", "secret-key"),
                                            fixed=(("admin-user", ADMIN_USER),))],
    workloads=lambda config: [Workload("Deployment", MONITORING_NAMESPACE, NAME)],
    checks=lambda config: [HttpCheck(MONITORING_NAMESPACE, NAME, SERVICE_PORT, "/api/health")],
    url=lambda config: f"http://{config.monitoring.grafana_ip}/",
    depends_on=(PROMETHEUS,),  # its Namespace, and the datasource it queries
)
