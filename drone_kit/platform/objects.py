"""Pure builders of the Kubernetes objects the components render, as plain dicts.

Every object gets the platform's labels, so `status` and `doctor` can find what drone_kit owns;
every container gets requests, limits and probes, because a Raspberry Pi server node has no
room for a workload that grows unbounded or hangs unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
PART_OF = "drone-kit-platform"
# On objects of a published manifest applied as published (MetalLB's): their owners fill in
# fields of them (certificates, caBundle), so they are never forced, replaced or pruned.
UPSTREAM_ANNOTATION = "drone-kit/upstream"


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def as_dict(self) -> Obj:
        return {"requests": {"cpu": self.cpu_request, "memory": self.memory_request},
                "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit}}


def labels(component: str, name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "drone-kit"}


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def metadata(component: str, name: str, namespace: str | None = None, **extra: Any) -> Obj:
    meta: Obj = {"name": name, "labels": labels(component, name)}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def namespace(component: str, name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(component, name)}


def http_probe(path: str, port: int | str, period: int = 10, failures: int = 3, delay: int = 0) -> Obj:
    probe: Obj = {"httpGet": {"path": path, "port": port}, "periodSeconds": period,
                  "timeoutSeconds": 5, "failureThreshold": failures}
    if delay:
        probe["initialDelaySeconds"] = delay
    return probe


def container(name: str, image: str, resources: Resources, *, ports: dict[str, int] | None = None,
              readiness: Obj, liveness: Obj | None = None, **extra: Any) -> Obj:
    spec: Obj = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
                 "resources": resources.as_dict(), "readinessProbe": readiness,
                 "livenessProbe": liveness or readiness}
    if ports:
        spec["ports"] = [{"name": port_name, "containerPort": port, "protocol": "TCP"}
                         for port_name, port in ports.items()]
    spec.update(extra)
    return spec


def deployment(component: str, name: str, ns: str, pod_spec: Obj, *, recreate: bool = True,
               pod_annotations: dict[str, str] | None = None) -> Obj:
    """One replica; `recreate` for anything holding a node-pinned volume (local-path), since two
    pods cannot share it across nodes and a rolling update would wait forever."""
    template_meta: Obj = {"labels": labels(component, name)}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(component, name, ns),
            "spec": {"replicas": 1, "selector": {"matchLabels": selector(name)},
                     "strategy": {"type": "Recreate" if recreate else "RollingUpdate"},
                     "template": {"metadata": template_meta, "spec": pod_spec}}}


def service(component: str, name: str, ns: str, ports: dict[str, tuple[int, int]], *,
            service_type: str = "ClusterIP", node_ports: dict[str, int] | None = None,
            load_balancer_ip: str = "") -> Obj:
    """`ports`: port name -> (service port, target port). A fixed MetalLB address goes in the
    `metallb.io/loadBalancerIPs` annotation (the spec field is deprecated upstream)."""
    meta = metadata(component, name, ns)
    if load_balancer_ip:
        meta["annotations"] = {"metallb.io/loadBalancerIPs": load_balancer_ip}
    port_list = []
    for port_name, (port, target) in ports.items():
        entry: Obj = {"name": port_name, "port": port, "targetPort": target, "protocol": "TCP"}
        if node_ports and port_name in node_ports:
            entry["nodePort"] = node_ports[port_name]
        port_list.append(entry)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"type": service_type, "selector": selector(name), "ports": port_list}}


def volume_claim(component: str, name: str, ns: str, size: str, storage_class: str) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata(component, name, ns),
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": size}}}}


def config_map(component: str, name: str, ns: str, data: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(component, name, ns), "data": data}


def service_account(component: str, name: str, ns: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(component, name, ns)}


def secret_env(env_name: str, secret: str, key: str) -> Obj:
    return {"name": env_name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def env(name: str, value: str) -> Obj:
    return {"name": name, "value": value}


def content_hash(data: Any) -> str:
    """Pure: a short digest of `data` (any JSON-able value), for a pod annotation that rolls the
    pod when, and only when, the configuration it reads at start changes."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def is_upstream(obj: Obj) -> bool:
    return UPSTREAM_ANNOTATION in ((obj.get("metadata") or {}).get("annotations") or {})
