"""`doctor`'s check of monitoring (platform.md §9, 9): Prometheus or Grafana killed for memory on a
small node, and dashboards exported from grafana.com still naming `${DS_PROMETHEUS}`. Pure."""

from __future__ import annotations

from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.config import MONITORING_NAMESPACE
from drone_kit.platform.doctor_view import ClusterView
from drone_kit.platform.findings import Finding, failed, ok


def monitoring(view: ClusterView) -> list[Finding]:
    """9: Prometheus or Grafana killed for memory; a dashboard still naming an unresolved datasource."""
    findings = []
    for pod in (p for p in view.pods if facts.namespace_of(p) == MONITORING_NAMESPACE):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            states = [(status.get(k) or {}).get("terminated") or {} for k in ("state", "lastState")]
            if any(s.get("reason") == "OOMKilled" for s in states):
                limit = next((((c.get("resources") or {}).get("limits") or {}).get("memory", "no limit")
                              for c in pod["spec"]["containers"] if c["name"] == status["name"]), "no limit")
                findings.append(failed("monitoring", f"{facts.name_of(pod)}/{status['name']} was OOMKilled (limit "
                                       f"{limit}, {status.get('restartCount', 0)} restarts)", [
                    "shorten monitoring.prometheus_retention or lengthen monitoring.scrape_interval in platform.yaml, "
                    "then drone_kit bootstrap --only prometheus"]))
    for config_map in (c for c in view.config_maps if facts.namespace_of(c) == MONITORING_NAMESPACE):
        keys = [key for key, text in (config_map.get("data") or {}).items() if "${DS_" in text]
        if keys:
            findings.append(failed("monitoring", f"ConfigMap {facts.name_of(config_map)} ({', '.join(keys)}) still "
                                   "says ${DS_…}: its panels stay empty (datasource not found)", [
                "replace every ${DS_PROMETHEUS} with the provisioned datasource's uid, prometheus"]))
    return findings or [ok("monitoring", "no OOM kill, no unresolved dashboard datasource")]
