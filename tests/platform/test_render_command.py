"""`drone_kit render`, `bootstrap --dry-run` and what every rendered object must have, without a
cluster: rendering is pure, and a dry run contacts nothing."""

from __future__ import annotations

import shutil

import pytest
import yaml
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.platform import catalog, footprint
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.footprint import MEMORY_BUDGET, quantity
from drone_kit.platform.upstream_manifest import cache_path, parse_manifest
from tests.paths import METALLB_MANIFEST


@pytest.fixture
def manifest() -> str:
    if not METALLB_MANIFEST.is_file():
        pytest.skip(f"MetalLB's reference manifest is not here ({METALLB_MANIFEST}); see its README")
    return METALLB_MANIFEST.read_text()


@pytest.fixture
def cached(manifest, tmp_path, monkeypatch):
    """MetalLB's manifest in drone_kit's cache, as after a first download."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    target = cache_path(tmp_path / "cache" / "drone-kit" / "manifests", PlatformConfig().metallb.manifest_sha256)
    target.parent.mkdir(parents=True)
    shutil.copy(METALLB_MANIFEST, target)
    monkeypatch.chdir(tmp_path)


def full_plan(manifest: str, config: PlatformConfig | None = None):
    return catalog.plan(config or PlatformConfig(), list(catalog.COMPONENTS), lambda c, _: parse_manifest(manifest))


def containers(plan):
    for planned in plan:
        for obj in planned.objects:
            spec = footprint.pod_spec(obj)
            for container in [*(spec or {}).get("initContainers", []), *(spec or {}).get("containers", [])]:
                yield planned.component.name, obj, container


def test_every_container_is_pinned_sized_and_probed(manifest):
    seen = 0
    for component, obj, container in containers(full_plan(manifest)):
        where = f"{component}: {obj['kind']} {obj['metadata']['name']} container {container['name']}"
        assert not container["image"].endswith(":latest") and ":" in container["image"].rsplit("/", 1)[-1], where
        resources = container.get("resources") or {}
        assert {"cpu", "memory"} <= set(resources.get("requests") or {}), where
        assert {"cpu", "memory"} <= set(resources.get("limits") or {}), where
        if container in (footprint.pod_spec(obj) or {}).get("containers", []) and obj["kind"] != "Job":
            assert container.get("readinessProbe") and container.get("livenessProbe"), where
        seen += 1
    assert seen >= 10


def test_the_platform_fits_a_4gb_raspberry_pi_server(manifest):
    total = sum(quantity(container["resources"]["requests"]["memory"]) *
                ((obj.get("spec") or {}).get("replicas", 1) if obj["kind"] == "Deployment" else 1)
                for _, obj, container in containers(full_plan(manifest))
                if container in footprint.pod_spec(obj)["containers"])
    assert total <= MEMORY_BUDGET
    assert footprint.of_objects(obj for p in full_plan(manifest) for obj in p.objects).memory_request == total


def test_no_object_is_rendered_twice(manifest):
    from drone_kit.platform.phases import duplicates
    assert duplicates(obj for p in full_plan(manifest) for obj in p.objects) == []


def test_render_footprint_prints_each_component_and_the_budget(cached):
    result = CliRunner().invoke(cli, ["render", "--footprint"])
    assert result.exit_code == 0, result.output
    for name in catalog.names():
        assert any(line.startswith(name + " ") for line in result.output.splitlines()), name
    assert "within the 1536Mi budget for a 4 GB Raspberry Pi server" in result.output


def test_render_writes_one_file_per_component_for_gitops(cached, tmp_path):
    result = CliRunner().invoke(cli, ["render", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    files = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert files == [f"{index:02d}-{name}.yaml" for index, name in enumerate(catalog.names(), start=1)]
    metallb = [doc for doc in yaml.safe_load_all((tmp_path / "out" / "01-metallb.yaml").read_text()) if doc]
    assert {"Deployment", "DaemonSet", "IPAddressPool", "L2Advertisement"} <= {doc["kind"] for doc in metallb}


def test_a_dry_run_contacts_nothing_and_prints_every_object(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))  # not even the manifest download
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["bootstrap", "--dry-run"])
    assert result.exit_code == 0, result.output
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert {"Namespace", "Deployment", "Service", "PersistentVolumeClaim"} <= {doc["kind"] for doc in documents}
    assert "nothing was contacted" in result.stderr
    assert "not shown: the objects of https://raw.githubusercontent.com/metallb" in result.stderr


def test_bad_configuration_is_reported_whole_before_anything_is_contacted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "platform.yaml").write_text("gitea:\n  ip: 192.168.1.250\nregistry:\n  node_port: 80\n")
    result = CliRunner().invoke(cli, ["bootstrap"])
    assert result.exit_code == 2
    assert "gitea.ip: '192.168.1.250' is not in metallb.pool" in result.stderr
    assert "registry.node_port" in result.stderr
    assert "Traceback" not in result.output


def test_an_unknown_component_is_named_with_the_closest_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["bootstrap", "--dry-run", "--only", "grafna"])
    assert result.exit_code == 2
    assert "--only grafna: no such component (did you mean grafana?)" in result.stderr


def test_every_rendered_image_is_published_for_amd64_and_arm64(manifest):
    """A Raspberry Pi cluster mixes arm64 and amd64 nodes: an image built for one fails on the
    other with `exec format error` (drone_kit's own images are pushed multi-arch by images push)."""
    from drone_kit.platform.image_platforms import missing_platforms
    config = PlatformConfig()
    own = config.drone_kit_image("", "").rsplit("/", 1)[0]
    for component, _, container in containers(full_plan(manifest, config)):
        if container["image"].startswith(own + "/"):
            continue
        assert missing_platforms(container["image"]) == [], f"{component}: {container['image']}"


def test_with_no_cluster_at_all_bootstrap_says_how_to_get_k3s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    result = CliRunner().invoke(cli, ["bootstrap"])
    assert result.exit_code == 1
    assert "--disable servicelb" in result.stderr and "/etc/rancher/k3s/config.yaml" in result.stderr
    assert "Traceback" not in result.output


def test_joining_an_agent_names_the_server_the_token_and_the_registries_yaml():
    from drone_kit.platform.guide import join_agent_lines
    lines = "\n".join(join_agent_lines(PlatformConfig()))
    assert "K3S_URL=https://192.168.1.70:6443" in lines
    assert "/var/lib/rancher/k3s/server/node-token" in lines
    assert '"http://192.168.1.70:30500"' in lines and "/etc/rancher/k3s/registries.yaml" in lines
