"""Which platforms each pinned upstream image is published for, so a test can check that every
image bootstrap renders runs on both halves of a mixed amd64/arm64 (Raspberry Pi) cluster. Pure.

The table is a record of what upstream publishes, checked by hand against the sources named in
each comment; it is never fetched. Change a pinned tag in `config.ImagesSection` (or MetalLB's
version) and its row here goes with it, or `missing_platforms` answers None (unknown).
"""

from __future__ import annotations

from collections.abc import Iterable

REQUIRED: tuple[str, ...] = ("linux/amd64", "linux/arm64")

PUBLISHED: dict[str, tuple[str, ...]] = {
    # Docker official image: docker-library/repo-info repos/registry/tag-details.md (2023-10, tags
    # 2.8.3 = 2.8 = 2 = latest; distribution-library-image Dockerfile downloads registry v2.8.3).
    "registry:2.8.3": ("linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64", "linux/ppc64le",
                       "linux/s390x"),
    # go-gitea/gitea .github/workflows/release-tag-version.yml before riscv64 (#34199, 1.24+):
    # build-push-action `platforms: linux/amd64,linux/arm64` for gitea/gitea, root and rootless.
    "gitea/gitea:1.22.6": ("linux/amd64", "linux/arm64"),
    # harness/drone .drone.yml (pipelines linux-amd64, linux-arm64) + docker/manifest.server.tmpl
    # at v2.25.0, the last tag in the mirrored repo; 2.26.0 itself is not in it (see report).
    "drone/drone:2.26.0": ("linux/amd64", "linux/arm64"),
    # drone-runners/drone-runner-kube tag v1.0.0-rc.5: .drone.yml pipelines linux-amd64 and
    # linux-arm64, docker/manifest.tmpl lists amd64 and arm64/v8.
    "drone/drone-runner-kube:1.0.0-rc.5": ("linux/amd64", "linux/arm64"),
    # prometheus/prometheus tag v2.54.1: Makefile `DOCKER_ARCHS ?= amd64 armv7 arm64 ppc64le s390x`,
    # joined into one manifest list by Makefile.common `common-docker-manifest`.
    "prom/prometheus:v2.54.1": ("linux/amd64", "linux/arm/v7", "linux/arm64", "linux/ppc64le", "linux/s390x"),
    # prometheus/node_exporter tag v1.8.2: Makefile `DOCKER_ARCHS ?= amd64 armv7 arm64 ppc64le s390x`.
    "prom/node-exporter:v1.8.2": ("linux/amd64", "linux/arm/v7", "linux/arm64", "linux/ppc64le", "linux/s390x"),
    # grafana/grafana's Drone release scripts of the 11.x era (scripts/drone, the tag build's
    # `pkg/build/cmd artifacts -a docker:grafana:linux/amd64 -a docker:grafana:linux/arm64
    # -a docker:grafana:linux/arm/v7`); not read at the v11.3.1 tag itself (see report).
    "grafana/grafana:11.3.1": ("linux/amd64", "linux/arm64", "linux/arm/v7"),
    # metallb/metallb tag v0.16.1: .github/workflows/publish.yaml build-push-action
    # `platforms: linux/amd64,linux/arm64,linux/s390x,linux/ppc64le,linux/arm/v7` for each image;
    # these are the images metallb-native.yaml at v0.16.1 names.
    "quay.io/metallb/controller:v0.16.1": ("linux/amd64", "linux/arm64", "linux/s390x", "linux/ppc64le",
                                           "linux/arm/v7"),
    "quay.io/metallb/speaker:v0.16.1": ("linux/amd64", "linux/arm64", "linux/s390x", "linux/ppc64le",
                                        "linux/arm/v7"),
}

# Docker Hub's spellings of the same reference: `registry:2.8.3` is pulled as
# `docker.io/library/registry:2.8.3`.
_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/")


def canonical(image: str) -> str:
    """`image` as the table spells it: without a Docker Hub host or `library/`, and without a
    digest when a tag is given too (the tag is what the table records)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if digest and ":" in last:
        image = name
    for prefix in _HUB_PREFIXES:
        if image.startswith(prefix):
            return image[len(prefix):]
    return image


def missing_platforms(image: str, required: Iterable[str] = REQUIRED) -> list[str] | None:
    """The platforms in `required` that `image` is not published for ([] = all there), or None
    when the table does not know `image`."""
    published = PUBLISHED.get(canonical(image))
    if published is None:
        return None
    return [platform for platform in required if platform not in published]
