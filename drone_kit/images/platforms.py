"""Platforms (`linux/arm64`, `linux/arm/v7`) and the image index that names one image per platform.

Pure. dockerd 20.10 builds one platform at a time, so a multi-arch image is one build and push
per platform, then an index over their manifests, PUT under each tag through the registry API.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from drone_kit.images.manifests import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, Manifest, sha256_digest

_PLATFORM = re.compile(r"^(?P<os>[a-z0-9]+)/(?P<arch>[a-z0-9_]+)(?:/(?P<variant>v[0-9]+))?$")


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)

    @property
    def tag_suffix(self) -> str:
        return str(self).replace("/", "-")


def parse_platform(text: str) -> Platform:
    """Pure: `linux/arm64` → Platform; ValueError for anything else."""
    match = _PLATFORM.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a platform like linux/amd64, linux/arm64 or linux/arm/v7")
    return Platform(match["os"], match["arch"], match["variant"] or "")


def image_platform(inspect: dict) -> Platform:
    """Pure: the platform of a built image, from `docker image inspect`."""
    return Platform(inspect.get("Os", ""), inspect.get("Architecture", ""), inspect.get("Variant", "") or "")


def image_index(children: list[tuple[Platform, Manifest]]) -> Manifest:
    """Pure: the index naming one manifest per platform (a Docker manifest list when every child
    is a Docker manifest, as dockerd pushes them; an OCI image index otherwise)."""
    docker_children = all(manifest.media_type == DOCKER_MANIFEST for _, manifest in children)
    media_type = DOCKER_MANIFEST_LIST if docker_children else OCI_INDEX
    entries = []
    for platform, manifest in children:
        described = {"architecture": platform.architecture, "os": platform.os}
        if platform.variant:
            described["variant"] = platform.variant
        entries.append({"mediaType": manifest.media_type, "size": len(manifest.body), "digest": manifest.digest,
                        "platform": described})
    body = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=3).encode()
    return Manifest(media_type, sha256_digest(body), body)
