"""Image manifests as the registry stores them: media types, content digests. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)


@dataclass(frozen=True)
class Manifest:
    media_type: str
    digest: str
    body: bytes


def sha256_digest(data: bytes) -> str:
    """Pure: the content digest the registry uses for these bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
