"""After the push: every tag put on the digest through the registry API, confirmed, recorded.

Adding a tag is a PUT of the same manifest bytes under another name: no layer moves.
"""

from __future__ import annotations

import json

from drone_kit.clients.registry import RegistryClient
from drone_kit.errors import DroneKitError
from drone_kit.images.manifests import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, Manifest, sha256_digest
from drone_kit.images.platforms import Platform, image_index
from drone_kit.images.reference import ImageRef


def fetch(registry: RegistryClient, ref: ImageRef, digest: str) -> Manifest:
    manifest = registry.manifest(ref.repository, digest)
    if manifest is None:
        raise DroneKitError(f"registry {ref.registry} has no manifest {ref.name}@{digest} after the push")
    return manifest


def relabel(registry: RegistryClient, ref: ImageRef, digest: str, labels: dict[str, str]) -> tuple[Manifest, Platform]:
    """A copy of a pushed image whose config carries these labels too, and the image's platform.

    Labels that change with every commit (revision, created) would invalidate the build cache
    if set while building; set here, they cost one small config blob and no layer. The new
    manifest is returned, not stored: it goes under the tags, or into an index.
    """
    document = json.loads(fetch(registry, ref, digest).body)
    config = json.loads(registry.blob(ref.repository, document["config"]["digest"]))
    config.setdefault("config", {})
    config["config"]["Labels"] = {**(config["config"].get("Labels") or {}), **labels}
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    document["config"] = {**document["config"], "digest": registry.upload_blob(ref.repository, config_bytes),
                          "size": len(config_bytes)}
    body = json.dumps(document, indent=3).encode()
    media_type = document.get("mediaType", DOCKER_MANIFEST)
    platform = Platform(config.get("os", ""), config.get("architecture", ""), config.get("variant", ""))
    return Manifest(media_type, sha256_digest(body), body), platform


def publish_index(registry: RegistryClient, ref: ImageRef, children: list[tuple[Platform, Manifest]]) -> Manifest:
    """Store each platform's manifest by digest and an index naming them; the index."""
    for _, manifest in children:
        registry.put_manifest(ref.repository, manifest.digest, manifest)
    index = image_index(children)
    registry.put_manifest(ref.repository, index.digest, index)
    return index


def tag_everywhere(registry: RegistryClient, ref: ImageRef, tags: list[str], manifest: Manifest) -> None:
    """Put the manifest under every tag; each must come back from the registry with its digest."""
    wrong = []
    for tag in tags:
        stored = registry.put_manifest(ref.repository, tag, manifest) or registry.manifest_digest(ref.repository, tag)
        if stored != manifest.digest:
            wrong.append(tag)
    if wrong:
        raise DroneKitError(f"registry {ref.registry} does not show {manifest.digest} under: {', '.join(wrong)}")


def image_size(registry: RegistryClient, ref: ImageRef, manifest: Manifest) -> int:
    """The bytes of an image's config and layers (summed over its platforms for an index)."""
    document = json.loads(manifest.body)
    if manifest.media_type in (DOCKER_MANIFEST_LIST, OCI_INDEX) or "manifests" in document:
        return sum(image_size(registry, ref, fetch(registry, ref, child["digest"])) for child in document["manifests"])
    return sum(item.get("size", 0) for item in [document.get("config", {}), *document.get("layers", [])])
