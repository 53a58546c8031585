"""What `doctor` reads from the cluster, once, as plain lists of API objects: the checks are pure
functions of this view. Logs are read only for pods worth reading (Jobs, crashed containers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from drone_kit.clients.cluster_objects import ClusterObjects, UnknownKind
from drone_kit.clients.kube import KubeError
from drone_kit.platform.config import (
    DRONE_KIT_NAMESPACE,
    DRONE_NAMESPACE,
    GITEA_NAMESPACE,
    METALLB_NAMESPACE,
    MONITORING_NAMESPACE,
    REGISTRY_NAMESPACE,
)
from drone_kit.platform.objects import Obj

PLATFORM_NAMESPACES = (METALLB_NAMESPACE, REGISTRY_NAMESPACE, GITEA_NAMESPACE, DRONE_NAMESPACE,
                       MONITORING_NAMESPACE, DRONE_KIT_NAMESPACE)
LOGGED_PODS, LOG_LINES = 20, 30


@dataclass
class ClusterView:
    nodes: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)  # every namespace
    events: list[Obj] = field(default_factory=list)  # every namespace
    services: list[Obj] = field(default_factory=list)  # every namespace
    daemonsets: list[Obj] = field(default_factory=list)  # kube-system
    endpoints: list[Obj] = field(default_factory=list)  # MetalLB's namespace
    deployments: list[Obj] = field(default_factory=list)  # platform namespaces
    jobs: list[Obj] = field(default_factory=list)  # platform namespaces
    secrets: list[Obj] = field(default_factory=list)  # platform namespaces
    config_maps: list[Obj] = field(default_factory=list)  # platform namespaces
    webhooks: list[Obj] = field(default_factory=list)  # ValidatingWebhookConfigurations
    pools: list[Obj] | None = None  # IPAddressPools; None when MetalLB's CRDs are not installed
    advertisements: list[Obj] | None = None  # L2Advertisements, likewise
    volumes: list[Obj] = field(default_factory=list)  # PersistentVolumes
    logs: dict[str, str] = field(default_factory=dict)  # "namespace/pod/container" -> last lines


def worth_a_log(pod: Obj) -> bool:
    """Pure: a Job's pod, or one with a container that has crashed or is not starting."""
    if any(ref.get("kind") == "Job" for ref in pod["metadata"].get("ownerReferences") or []):
        return True
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        state = status.get("state") or {}
        if status.get("restartCount") or status.get("lastState", {}).get("terminated") or \
                (state.get("terminated") or {}).get("exitCode") or \
                (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
            return True
    return False


def _optional(cluster: ClusterObjects, api_version: str, kind: str, namespace: str | None = None) -> list[Obj] | None:
    try:
        return cluster.list_of(api_version, kind, namespace)
    except UnknownKind:
        return None


def gather(cluster: ClusterObjects) -> ClusterView:
    def each_namespace(api_version: str, kind: str) -> list[Obj]:
        found: list[Obj] = []
        for namespace in PLATFORM_NAMESPACES:
            try:
                found += cluster.list_of(api_version, kind, namespace)
            except KubeError as e:
                if e.status not in (403, 404):
                    raise
        return found

    view = ClusterView(
        nodes=cluster.list_of("v1", "Node"), pods=cluster.list_of("v1", "Pod"), events=cluster.list_of("v1", "Event"),
        services=cluster.list_of("v1", "Service"), daemonsets=cluster.list_of("apps/v1", "DaemonSet", "kube-system"),
        endpoints=cluster.list_of("v1", "Endpoints", METALLB_NAMESPACE),
        deployments=each_namespace("apps/v1", "Deployment"), jobs=each_namespace("batch/v1", "Job"),
        secrets=each_namespace("v1", "Secret"), config_maps=each_namespace("v1", "ConfigMap"),
        webhooks=cluster.list_of("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
        pools=_optional(cluster, "metallb.io/v1beta1", "IPAddressPool", METALLB_NAMESPACE),
        advertisements=_optional(cluster, "metallb.io/v1beta1", "L2Advertisement", METALLB_NAMESPACE),
        volumes=cluster.list_of("v1", "PersistentVolume"))
    for pod in [p for p in view.pods if worth_a_log(p)][:LOGGED_PODS]:
        meta = pod["metadata"]
        for container in pod["spec"].get("containers") or []:
            key = f"{meta['namespace']}/{meta['name']}/{container['name']}"
            view.logs[key] = cluster.pod_log(meta["namespace"], meta["name"], container["name"], tail=LOG_LINES)
    return view
