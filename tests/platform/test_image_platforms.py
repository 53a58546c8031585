"""Every pinned upstream image runs on amd64 and arm64 (a Raspberry Pi cluster mixes both), by the
table in `platform.image_platforms`; and that table's look-up."""

from __future__ import annotations

import dataclasses

import pytest

from drone_kit.platform.components.metallb import CONTROLLER, SPEAKER, render_with
from drone_kit.platform.config import ImagesSection, PlatformConfig
from drone_kit.platform.image_platforms import PUBLISHED, canonical, missing_platforms
from drone_kit.platform.upstream_manifest import parse_manifest
from tests.paths import METALLB_MANIFEST

# Not upstream images: "" = MetalLB's manifest decides; drone_kit's own are built multi-arch here.
_NOT_PINNED = {"metallb_controller", "metallb_speaker", "drone_kit"}


def _pinned_images(images: ImagesSection) -> dict[str, str]:
    return {field.name: getattr(images, field.name) for field in dataclasses.fields(images)
            if field.name not in _NOT_PINNED}


def _metallb_images(config: PlatformConfig) -> set[str]:
    objects = render_with(config, parse_manifest(METALLB_MANIFEST.read_text()))
    return {container["image"] for obj in objects if obj["kind"] in ("Deployment", "DaemonSet")
            for container in obj["spec"]["template"]["spec"]["containers"]}


def test_every_pinned_default_image_is_published_for_amd64_and_arm64() -> None:
    pinned = _pinned_images(PlatformConfig().images)
    assert set(pinned) == {"registry", "gitea", "drone", "drone_runner", "prometheus", "node_exporter", "grafana"}
    assert {name: missing_platforms(image) for name, image in pinned.items()} == {name: [] for name in pinned}


def test_the_images_metallbs_pinned_release_names_are_multi_arch() -> None:
    version = PlatformConfig().metallb.version
    for image in (f"quay.io/metallb/{CONTROLLER}:{version}", f"quay.io/metallb/{SPEAKER}:{version}"):
        assert missing_platforms(image) == [], image


def test_the_metallb_manifest_names_exactly_the_tabled_images() -> None:
    if not METALLB_MANIFEST.is_file():
        pytest.skip(f"MetalLB's reference manifest is not here ({METALLB_MANIFEST})")
    config = PlatformConfig()
    names = _metallb_images(config)
    assert names == {f"quay.io/metallb/{part}:{config.metallb.version}" for part in (CONTROLLER, SPEAKER)}
    assert {image: missing_platforms(image) for image in names} == {image: [] for image in names}


def test_a_pinned_image_the_table_does_not_know_is_unknown_not_fine() -> None:
    config = PlatformConfig(images=dataclasses.replace(ImagesSection(), grafana="grafana/grafana:11.4.0"))
    assert missing_platforms(config.images.grafana) is None
    assert missing_platforms("registry:latest") is None


def test_missing_platforms_names_each_required_platform_not_published() -> None:
    assert missing_platforms("gitea/gitea:1.22.6") == []
    assert missing_platforms("gitea/gitea:1.22.6", required=("linux/amd64", "linux/arm/v7")) == ["linux/arm/v7"]
    assert missing_platforms("gitea/gitea:1.22.6", required=("linux/riscv64", "linux/arm/v6", "linux/arm64")) == [
        "linux/riscv64", "linux/arm/v6"]
    assert missing_platforms("prom/prometheus:v2.54.1", required=("linux/arm/v7",)) == []
    assert missing_platforms("registry:2.8.3", required=()) == []


def test_docker_hub_spellings_and_pinned_digests_find_the_same_row() -> None:
    digest = "sha256:" + "0" * 64
    assert canonical("docker.io/library/registry:2.8.3") == "registry:2.8.3"
    assert canonical("index.docker.io/grafana/grafana:11.3.1") == "grafana/grafana:11.3.1"
    assert canonical(f"prom/prometheus:v2.54.1@{digest}") == "prom/prometheus:v2.54.1"
    assert missing_platforms(f"docker.io/drone/drone-runner-kube:1.0.0-rc.5@{digest}") == []
    # A digest alone names no tag the table records; another host is another image.
    assert missing_platforms(f"registry@{digest}") is None
    assert missing_platforms("192.168.1.70:30500/registry:2.8.3") is None
    assert canonical("quay.io/metallb/speaker:v0.16.1") == "quay.io/metallb/speaker:v0.16.1"


def test_every_row_is_a_pinned_canonical_reference_with_linux_platforms() -> None:
    for image, platforms in PUBLISHED.items():
        assert canonical(image) == image and not image.endswith(":latest"), image
        assert all(platform.startswith("linux/") for platform in platforms), image
        assert len(set(platforms)) == len(platforms), image
