"""MetalLB: its published native manifest at the pinned release, then the platform's address pool
and its L2 advertisement, which MetalLB's webhook must accept. Pure.

MetalLB's own objects come from `platform.upstream_manifest` (the one place that downloads);
bootstrap renders this component with `render_with(config, metallb_objects(config.metallb))`.
`COMPONENT.render` alone gives only the objects drone_kit writes (the pool and advertisement).
MetalLB's objects are applied as published, by server-side apply, and never replaced: its
controller fills the empty Secret `metallb-webhook-cert` and every `caBundle` as field manager
`MetalLB`, and a replace (or a delete and re-create) would wipe them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drone_kit.errors import DroneKitError
from drone_kit.platform.component import Component, Workload
from drone_kit.platform.config import METALLB_NAMESPACE, PlatformConfig
from drone_kit.platform.objects import UPSTREAM_ANNOTATION, Obj, Resources, metadata

GROUP = "metallb.io"
CONTROLLER, SPEAKER = "controller", "speaker"
WEBHOOK_SERVICE = "metallb-webhook-service"
WEBHOOK_CERT = "metallb-webhook-cert"
# Marks what MetalLB publishes, so whoever applies, diffs or prunes can tell it from ours by the
# object alone: applied as published, never replaced, deleted or forced.
# The manifest sets no resources; these (inference: a few MiB of informers on a home-lab cluster)
# keep them bounded on a Pi. The speaker runs on every node.
SIZES = {CONTROLLER: Resources("20m", "64Mi", "200m", "160Mi"), SPEAKER: Resources("20m", "64Mi", "200m", "160Mi")}
_WORKLOADS = (("Deployment", CONTROLLER), ("DaemonSet", SPEAKER))


def own_objects(config: PlatformConfig) -> list[Obj]:
    """The pool (`metallb.pool`, named `metallb.pool_name`) and its L2 advertisement."""
    pool = config.metallb.pool_name
    return [
        {"apiVersion": f"{GROUP}/v1beta1", "kind": "IPAddressPool",
         "metadata": metadata("metallb", pool, METALLB_NAMESPACE), "spec": {"addresses": [config.metallb.pool]}},
        {"apiVersion": f"{GROUP}/v1beta1", "kind": "L2Advertisement",
         "metadata": metadata("metallb", f"{pool}-l2", METALLB_NAMESPACE), "spec": {"ipAddressPools": [pool]}},
    ]


def render_with(config: PlatformConfig, upstream: list[Obj]) -> list[Obj]:
    """MetalLB's objects as published (copies: marked as upstream, the controller and speaker
    given Pi-sized resources), then `own_objects`."""
    published = copy.deepcopy(upstream)
    for kind, name in _WORKLOADS:
        if _find(published, kind, name) is None:
            raise DroneKitError(f"MetalLB's manifest (metallb.manifest_url) has no {kind} {METALLB_NAMESPACE}/{name}",
                                hint="metallb.manifest_url must be the native manifest (config/manifests/"
                                     "metallb-native.yaml) of a release")
    for obj in published:
        meta = obj["metadata"]
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               UPSTREAM_ANNOTATION: f"metallb {config.metallb.version}"}
    for kind, name in _WORKLOADS:
        for container in _containers(_find(published, kind, name)):
            container["resources"] = SIZES[name].as_dict()
    images = {CONTROLLER: config.images.metallb_controller, SPEAKER: config.images.metallb_speaker}
    return override_images(published, images) + own_objects(config)


def override_images(objects: list[Obj], images: Mapping[str, str]) -> list[Obj]:
    """Copies with the controller's and speaker's images replaced (`images`: "controller" and/or
    "speaker" -> image; "" keeps the published one), for mirrors and the test node."""
    changed = copy.deepcopy(objects)
    for kind, name in _WORKLOADS:
        workload = _find(changed, kind, name)
        for container in _containers(workload) if workload and images.get(name) else []:
            if container.get("name") == name:
                container["image"] = images[name]
    return changed


def webhook_checked_kinds(upstream: Iterable[Obj]) -> frozenset[tuple[str, str]]:
    """(group, kind) of every custom resource MetalLB's validating webhook checks, from the
    webhook configuration's rules (plural resources) and the CRDs' names."""
    objects = list(upstream)
    kinds = {(crd["spec"]["group"], crd["spec"]["names"]["plural"]): crd["spec"]["names"]["kind"]
             for crd in objects if crd.get("kind") == "CustomResourceDefinition"}
    return frozenset((group, kinds[(group, resource)])
                     for configuration in objects if configuration.get("kind") == "ValidatingWebhookConfiguration"
                     for webhook in configuration.get("webhooks") or [] for rule in webhook.get("rules") or []
                     for group in rule.get("apiGroups") or [] for resource in rule.get("resources") or []
                     if (group, resource) in kinds)


@dataclass(frozen=True)
class WaitStep:
    """One thing to wait for, in order: `until` is established (a CRD), rolled out (a workload),
    endpoints ready (a Service: its pods serve) or accepted (a server-side dry run passes)."""

    until: str
    api_version: str
    kind: str
    name: str
    namespace: str = ""


def wait_plan(objects: list[Obj]) -> list[WaitStep]:
    """The wait before the pool is really applied: the controller is Ready before its webhook
    serves (it registers the webhook only after rotating its certificate), so rollout alone is
    not enough; only a dry run the webhook accepts is. `objects`: what `render_with` returned."""
    checked = webhook_checked_kinds(objects)
    steps = [WaitStep("established", obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
             for obj in objects if obj["kind"] == "CustomResourceDefinition"]
    steps += [WaitStep("rolled out", "apps/v1", kind, name, METALLB_NAMESPACE) for kind, name in _WORKLOADS]
    steps.append(WaitStep("endpoints ready", "v1", "Service", WEBHOOK_SERVICE, METALLB_NAMESPACE))
    steps += [WaitStep("accepted", obj["apiVersion"], obj["kind"], obj["metadata"]["name"],
                       obj["metadata"].get("namespace", ""))
              for obj in objects if (obj["apiVersion"].partition("/")[0], obj["kind"]) in checked]
    return steps


def endpoints_ready(obj: Obj) -> bool:
    """Whether a Service's v1 Endpoints, or one of its EndpointSlices, has a ready address (a
    slice endpoint without a `ready` condition counts as ready, as the API documents)."""
    if obj.get("kind") == "Endpoints":
        return any(subset.get("addresses") for subset in obj.get("subsets") or [])
    return any(endpoint.get("addresses") and (endpoint.get("conditions") or {}).get("ready") is not False
               for endpoint in obj.get("endpoints") or [])


def workloads(config: PlatformConfig) -> list[Workload]:
    return [Workload(kind, METALLB_NAMESPACE, name) for kind, name in _WORKLOADS]


def _find(objects: list[Obj], kind: str, name: str) -> Obj | None:
    return next((obj for obj in objects if obj.get("kind") == kind and obj["metadata"].get("name") == name
                 and obj["metadata"].get("namespace") == METALLB_NAMESPACE), None)


def _containers(workload: Obj | None) -> list[Obj]:
    return list((((workload or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or [])


COMPONENT = Component(
    name="metallb",
    summary="MetalLB (L2): fixed LAN addresses for LoadBalancer Services, from metallb.pool",
    render=own_objects,
    workloads=workloads,
    with_upstream=render_with,
)
