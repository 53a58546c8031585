"""Every object bootstrap renders, with the seed platform's configuration, is accepted by the
suite's real kube-apiserver in a server-side dry run: schema, defaults and validation as the
server has them, not as we believe them. Namespaces and MetalLB's CRDs are applied for real
first, since a dry run of an object needs its namespace and its kind to exist, and removed after
(this module runs before the bootstrap tests, which start from an empty node)."""

from __future__ import annotations

import time

import pytest

from drone_kit.platform import catalog
from drone_kit.platform.apply_defaults import with_defaulted_keys
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.phases import in_order
from drone_kit.platform.readiness import crd_established
from drone_kit.platform.upstream_manifest import parse_manifest
from tests.paths import METALLB_MANIFEST
from tests.platform.metallb_standin import without_cel_rules


def test_every_rendered_object_is_accepted_by_the_api_server(platform_cluster):
    if not METALLB_MANIFEST.is_file():
        pytest.skip(f"MetalLB's reference manifest is not here ({METALLB_MANIFEST}); see its README")
    manifest = without_cel_rules(parse_manifest(METALLB_MANIFEST.read_text()))  # the node is 1.20
    plan = catalog.plan(PlatformConfig(), list(catalog.COMPONENTS), lambda config, component: manifest)
    accepted: list[str] = []
    real = [obj for planned in plan for obj in planned.objects
            if obj["kind"] in ("Namespace", "CustomResourceDefinition")]
    try:
        dry_run_everything(platform_cluster, plan, accepted)
    finally:
        for obj in real:
            platform_cluster.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
        for obj in real:
            while platform_cluster.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) is not None:
                time.sleep(0.5)
    assert {"Deployment", "DaemonSet", "Service", "PersistentVolumeClaim", "ClusterRole", "Role", "ConfigMap",
            "IPAddressPool", "L2Advertisement", "ValidatingWebhookConfiguration"} <= set(accepted)


def dry_run_everything(platform_cluster, plan, accepted: list[str]) -> None:
    for obj in in_order(obj for planned in plan for obj in planned.objects):
        if obj["kind"] in ("Namespace", "CustomResourceDefinition"):
            platform_cluster.apply(obj)
            if obj["kind"] == "CustomResourceDefinition":
                for _ in range(50):
                    if crd_established(platform_cluster.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
                                       or {}):
                        break
                    time.sleep(0.2)
            continue
        answer = platform_cluster.apply(with_defaulted_keys(obj), dry_run=True)
        assert answer["kind"] == obj["kind"] and answer["metadata"]["name"] == obj["metadata"]["name"]
        accepted.append(obj["kind"])
