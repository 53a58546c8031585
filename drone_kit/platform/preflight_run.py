"""Pre-flight against a real cluster: find the kubeconfig and reach the API with it, then read
the nodes, StorageClasses and servicelb's leftovers and judge them (`preflight`). Read-only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from drone_kit.clients.cluster_objects import ClusterObjects, Log
from drone_kit.clients.kube import KubeError
from drone_kit.clients.kubeconfig import api_client
from drone_kit.errors import DroneKitError
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.findings import Finding, failed, ok
from drone_kit.platform.preflight import K3S_KUBECONFIG, SVCLB_LABEL, choose_kubeconfig, no_cluster, preflight_findings


def open_cluster(explicit: str | None, environ: Mapping[str, str], log: Log) -> tuple[ClusterObjects | None, Finding]:
    """The cluster to install on and how it was found; None with a failed finding when there is
    no kubeconfig or it cannot be read."""
    path, why = choose_kubeconfig(explicit, environ, os.path.exists)
    if path is None:
        return None, no_cluster(why)
    try:
        text = Path(path).read_text()
    except PermissionError:
        return None, failed("kubeconfig", f"{path} is readable by root only", [
            "run with sudo, or set write-kubeconfig-mode: \"0644\" in /etc/rancher/k3s/config.yaml "
            "and sudo systemctl restart k3s"] if path == K3S_KUBECONFIG else ["make it readable to you"])
    except OSError as e:
        return None, failed("kubeconfig", f"cannot read {path} ({why}): {e.strerror}")
    try:
        client = api_client(text, None, environ)
    except DroneKitError as e:
        return None, failed("kubeconfig", f"{path} ({why}) is not a usable kubeconfig: {e.message}")
    return ClusterObjects(client, log), ok("kubeconfig", f"{path} ({why})")


def unreachable(cluster: ClusterObjects, error: KubeError, kubeconfig: str = "") -> Finding:
    """Pure: the API did not answer; k3s's kubeconfig copied off the server still says 127.0.0.1."""
    fix = [error.hint] if error.hint else []
    host = urlparse(cluster.host).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") and kubeconfig != K3S_KUBECONFIG:
        fix.append(f"the kubeconfig points at {host}: off the server node, replace it in `server:` with the "
                   "server's address (keep the port, 6443)")
    fix.append("on the server: sudo systemctl status k3s")
    return failed("api", error.message, fix)


def preflight(cluster: ClusterObjects, config: PlatformConfig, kubeconfig: str = "") -> list[Finding]:
    """Every cluster check of pre-flight (the registry pull check runs later, see `pull_check`).
    `kubeconfig`: the path the cluster was reached with, when known."""
    try:
        nodes = cluster.list_of("v1", "Node")
    except KubeError as e:
        return [unreachable(cluster, e, kubeconfig)]
    classes = cluster.list_of("storage.k8s.io/v1", "StorageClass")
    svclb_pods = cluster.list_of("v1", "Pod", label_selector=SVCLB_LABEL)
    daemonsets = cluster.list_of("apps/v1", "DaemonSet", "kube-system")
    return [ok("api", f"the Kubernetes API answers at {cluster.host}"),
            *preflight_findings(config, nodes, classes, svclb_pods, daemonsets)]
