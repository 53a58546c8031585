"""Grafana dashboards as pure builders of their JSON model: the cluster's nodes and pods, and
the deployments the shim relays and measures. Every query names the provisioned Prometheus
datasource by its fixed uid, so a dashboard never asks for a `${DS_PROMETHEUS}` to be resolved.
"""

from __future__ import annotations

from drone_kit.platform.dashboards import cluster, deployments
from drone_kit.platform.dashboards.panels import DATASOURCE, DATASOURCE_UID, DEPLOY_TAG
from drone_kit.platform.objects import Obj

__all__ = ["DATASOURCE", "DATASOURCE_UID", "DEPLOY_TAG", "all_dashboards"]


def all_dashboards() -> list[Obj]:
    """Pure: every dashboard the platform provisions, the one to open first first."""
    return [deployments.dashboard(), cluster.dashboard()]
