"""Pure: the order objects are applied in. An object can only be accepted once what it refers
to exists: its Namespace, its kind (a CRD, Established), the ServiceAccount, Secret or ConfigMap
its pods name; objects checked by a webhook come last, once the webhook's pods serve it.
"""

from __future__ import annotations

from collections.abc import Iterable

from drone_kit.platform.objects import Obj

NAMESPACES, DEFINITIONS, SETUP, WORKLOADS, WEBHOOK_CHECKED = range(5)
PHASE_NAMES = ("namespaces", "definitions", "access and configuration", "workloads", "webhook-checked")
_DEFINITION_KINDS = {"CustomResourceDefinition", "PriorityClass", "StorageClass"}
_WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "Pod",
                   # webhooks call Services, so the configuration goes with the workloads serving it
                   "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
# Custom resources of these groups are validated by a webhook their operator serves.
WEBHOOK_GROUPS = ("metallb.io/",)


def phase_of(obj: Obj) -> int:
    kind, api_version = obj.get("kind", ""), obj.get("apiVersion", "")
    if kind == "Namespace":
        return NAMESPACES
    if kind in _DEFINITION_KINDS:
        return DEFINITIONS
    if api_version.startswith(WEBHOOK_GROUPS):
        return WEBHOOK_CHECKED
    if kind in _WORKLOAD_KINDS:
        return WORKLOADS
    return SETUP


def in_order(objects: Iterable[Obj]) -> list[Obj]:
    """The objects by phase; within one, as rendered (stable)."""
    return sorted(objects, key=phase_of)


def key_of(obj: Obj) -> tuple[str, str, str, str]:
    """Pure: what identifies an object: (apiVersion's group, kind, namespace, name)."""
    meta = obj.get("metadata") or {}
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return group, obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", "")


def duplicates(objects: Iterable[Obj]) -> list[tuple[str, str, str, str]]:
    """Pure: keys rendered more than once (two components claiming one object is a bug)."""
    seen: set[tuple[str, str, str, str]] = set()
    repeated = []
    for obj in objects:
        key = key_of(obj)
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return repeated
