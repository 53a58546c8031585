"""Pure: whether the cluster's Kubernetes can take what the platform renders. Published manifests
move on faster than home labs upgrade: MetalLB's CRDs carry CEL validation rules, which an older
API server refuses outright ("field not declared in schema") half-way through an install."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from drone_kit.platform.findings import Finding, failed, ok
from drone_kit.platform.objects import Obj

CHECK = "kubernetes version"
# A schema feature the API server must know, and the first minor version of 1.x enabling it by default.
CEL_RULES = ("x-kubernetes-validations", 25)
UPGRADE = "upgrade k3s on every node, server first: curl -sfL https://get.k3s.io | INSTALL_K3S_CHANNEL=stable sh -"


def minor_version(git_version: str) -> int | None:
    """Pure: 20 for "v1.20.2" or "v1.28.5+k3s1"; None when it is not a 1.x version."""
    match = re.match(r"v?1\.(\d+)", git_version)
    return int(match.group(1)) if match else None


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def needs(objects: Iterable[Obj]) -> list[tuple[str, int, str]]:
    """(feature, minimum 1.x minor, the CRD using it) for every CRD using a schema feature."""
    feature, minimum = CEL_RULES
    return [(feature, minimum, obj["metadata"]["name"]) for obj in objects
            if obj.get("kind") == "CustomResourceDefinition" and feature in _keys(obj.get("spec"))]


def compatibility(git_version: str, objects: Iterable[Obj]) -> Finding:
    minor, wanted = minor_version(git_version), needs(objects)
    if minor is None or not wanted:
        return ok(CHECK, f"Kubernetes {git_version}")
    too_new = [(feature, minimum, crd) for feature, minimum, crd in wanted if minor < minimum]
    if not too_new:
        return ok(CHECK, f"Kubernetes {git_version}")
    feature, minimum, _ = max(too_new, key=lambda need: need[1])
    crds = sorted({crd for _, _, crd in too_new})
    return failed(CHECK, f"the cluster runs Kubernetes {git_version}, but {len(crds)} CRDs to install "
                         f"({', '.join(crds[:2])}{', …' if len(crds) > 2 else ''}) use {feature}, which needs "
                         f"1.{minimum} or later", [UPGRADE, "or pin an older MetalLB release in platform.yaml "
                                                   "(metallb.version, metallb.manifest_url, metallb.manifest_sha256)"])
