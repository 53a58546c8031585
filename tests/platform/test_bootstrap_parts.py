"""The parts of bootstrap around the installer: which components run, whether the cluster's
Kubernetes can take them, whether drone_kit's own images are in the registry, how progress and
status read."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from rich.console import Console

from drone_kit import __version__
from drone_kit.errors import SettingsError
from drone_kit.platform import catalog
from drone_kit.platform.bootstrap import missing_images, uncached_manifests
from drone_kit.platform.compatibility import compatibility, minor_version, needs
from drone_kit.platform.config import ImagesSection, PlatformConfig
from drone_kit.platform.progress import LiveProgress, PlainProgress
from drone_kit.platform.status import judge, status_lines
from tests.stack.registry import push_test_image

CEL_CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "ipaddresspools.metallb.io"},
           "spec": {"versions": [{"schema": {"openAPIV3Schema": {"properties": {"spec": {
               "x-kubernetes-validations": [{"rule": "self.a < self.b"}]}}}}}]}}
PLAIN_CRD = {**CEL_CRD, "metadata": {"name": "plain.example.com"}, "spec": {"versions": [{"schema": {}}]}}


def test_components_are_chosen_in_install_order_whatever_order_they_are_named_in():
    assert [c.name for c in catalog.choose(["grafana", "metallb"])] == ["metallb", "grafana"]
    assert [c.name for c in catalog.choose([])] == catalog.names()
    with pytest.raises(SettingsError) as raised:
        catalog.choose(["registy", "gitea"])
    assert raised.value.problems == ["--only registy: no such component (did you mean registry?)"]


def test_every_component_comes_after_what_it_depends_on():
    order = catalog.names()
    for component in catalog.COMPONENTS:
        assert all(order.index(dependency) < order.index(component.name) for dependency in component.depends_on)


def test_kubernetes_versions_are_read_as_k3s_and_upstream_spell_them():
    assert minor_version("v1.20.2") == 20
    assert minor_version("v1.28.5+k3s1") == 28
    assert minor_version("v2.0.0") is None


def test_crds_with_cel_rules_need_1_25_and_an_older_server_is_refused_with_the_fix():
    assert needs([CEL_CRD, PLAIN_CRD]) == [("x-kubernetes-validations", 25, "ipaddresspools.metallb.io")]
    refused = compatibility("v1.20.2", [CEL_CRD, PLAIN_CRD])
    assert refused.status == "failed"
    assert "runs Kubernetes v1.20.2, but 1 CRDs to install (ipaddresspools.metallb.io) use " in refused.message
    assert any("INSTALL_K3S_CHANNEL=stable" in line for line in refused.fix)
    assert compatibility("v1.28.5+k3s1", [CEL_CRD]).status == "ok"
    assert compatibility("v1.20.2", [PLAIN_CRD]).status == "ok"


def test_drone_kits_images_are_looked_for_where_bootstrap_will_pull_them(engine, registry, base_image):
    config = replace(PlatformConfig(), images=replace(ImagesSection(), drone_kit=f"{registry.host}/parts-test"))
    push_test_image(engine.client, registry, f"FROM {base_image}\n", f"parts-test/shim:{__version__}")
    assert missing_images(config, ("shim", "deploy")) == [f"{registry.host}/parts-test/deploy:{__version__}"]


def test_a_registry_that_does_not_answer_has_none_of_them():
    config = replace(PlatformConfig(), images=replace(ImagesSection(), drone_kit="127.0.0.1:9/parts-test"))
    assert missing_images(config, ("shim",)) == [f"127.0.0.1:9/parts-test/shim:{__version__}"]


def test_a_dry_run_says_which_published_manifest_it_could_not_show(tmp_path):
    config = PlatformConfig()
    assert uncached_manifests(config, list(catalog.COMPONENTS), tmp_path) == [config.metallb.manifest_url]
    assert uncached_manifests(config, catalog.choose(["gitea"]), tmp_path) == []


def test_plain_progress_is_one_line_per_state_change_and_per_object_changed():
    out = io.StringIO()
    progress = PlainProgress(out)
    for report in [("gitea", "applying", "5 objects"), ("gitea", "changed", "created Namespace gitea"),
                   ("gitea", "waiting", "Deployment gitea: 0/1 available"),
                   ("gitea", "waiting", "Deployment gitea: 1/1 available"), ("gitea", "ready", "in 12s")]:
        progress(*report)
    assert out.getvalue().splitlines() == ["gitea: applying 5 objects", "gitea: changed created Namespace gitea",
                                           "gitea: waiting Deployment gitea: 0/1 available", "gitea: ready in 12s"]


def test_live_progress_is_a_table_whose_clock_stops_when_a_component_is_done():
    now = [100.0]
    out = io.StringIO()
    progress = LiveProgress(["registry", "gitea"], Console(file=out, force_terminal=True, width=100),
                            clock=lambda: now[0])
    progress("registry", "applying", "3 objects")
    now[0] = 107.0
    progress("registry", "ready", "in 7s")
    now[0] = 150.0
    table = progress._table()
    progress.close()
    text = io.StringIO()
    Console(file=text, width=100).print(table)
    rows = {line.split()[0]: line.split() for line in text.getvalue().splitlines()[1:]}
    assert rows["registry"][1:3] == ["ready", "7s"]
    assert rows["gitea"][1] == "pending"


def test_status_names_what_is_not_ready_and_where_secrets_live_never_their_values():
    ready = {"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1},
             "status": {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1, "availableReplicas": 1}}
    stuck = {**ready, "status": {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1}}
    good = judge("gitea", [("Deployment gitea/gitea", ready)], [("GET /api/healthz", 200, 200)],
                 "http://192.168.1.201:3000/", ["gitea/gitea-admin"])
    bad = judge("drone_server", [("Deployment drone/drone", stuck)], [], "http://192.168.1.202/", [])
    gone = judge("grafana", [("Deployment monitoring/grafana", None)], [], "", [])
    assert good.ready and not bad.ready and not gone.ready
    assert status_lines([good, bad, gone]) == [
        "gitea          ready      http://192.168.1.201:3000/", "    secrets: Secret gitea/gitea-admin",
        "drone_server   NOT READY  http://192.168.1.202/", "    Deployment drone/drone: 0/1 available",
        "grafana        NOT READY", "    Deployment monitoring/grafana: not installed"]
