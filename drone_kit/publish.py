"""After the push: every tag put on the digest through the registry API, confirmed, recorded.

Adding a tag is a PUT of the same manifest bytes under another name: no layer moves.
"""

from __future__ import annotations

import json

from drone_kit.errors import DroneKitError
from drone_kit.platforms import Platform, image_index
from drone_kit.reference import ImageRef
from drone_kit.registry import DOCKER_MANIFEST_LIST, OCI_INDEX, Manifest, RegistryClient


def _fetch(registry: RegistryClient, ref: ImageRef, digest: str) -> Manifest:
    manifest = registry.manifest(ref.repository, digest)
    if manifest is None:
        raise DroneKitError(f"registry {ref.registry} has no manifest {ref.name}@{digest} after the push")
    return manifest


def publish_index(registry: RegistryClient, ref: ImageRef, children: list[tuple[Platform, str]]) -> str:
    """PUT an index naming each platform's pushed manifest; the index digest."""
    index = image_index([(platform, _fetch(registry, ref, digest)) for platform, digest in children])
    return registry.put_manifest(ref.repository, index.digest, index)


def tag_everywhere(registry: RegistryClient, ref: ImageRef, tags: list[str], digest: str) -> None:
    """Make every tag point at `digest`, then confirm each one through the registry."""
    manifest = _fetch(registry, ref, digest)
    for tag in tags:
        if registry.manifest_digest(ref.repository, tag) != digest:
            registry.put_manifest(ref.repository, tag, manifest)
    wrong = [tag for tag in tags if registry.manifest_digest(ref.repository, tag) != digest]
    if wrong:
        raise DroneKitError(f"registry {ref.registry} does not show {digest} under: {', '.join(wrong)}")


def image_size(registry: RegistryClient, ref: ImageRef, digest: str) -> int:
    """The bytes of an image's config and layers (summed over its platforms for an index)."""
    document = json.loads(_fetch(registry, ref, digest).body)
    if document.get("mediaType") in (DOCKER_MANIFEST_LIST, OCI_INDEX) or "manifests" in document:
        return sum(image_size(registry, ref, child["digest"]) for child in document["manifests"])
    return sum(item.get("size", 0) for item in [document.get("config", {}), *document.get("layers", [])])
