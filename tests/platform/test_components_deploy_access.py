"""The deploy plugin's access as bootstrap renders it: the same rules as plugins/deploy/rbac.yaml
(the file users apply by hand), for the ServiceAccount in Drone's build namespace."""

from __future__ import annotations

from dataclasses import replace

import yaml

from drone_kit.platform.components import deploy_access
from drone_kit.platform.config import DroneSection, PlatformConfig
from tests.paths import ROOT

PUBLISHED = {obj["kind"]: obj for obj in yaml.safe_load_all((ROOT / "plugins/deploy/rbac.yaml").read_text())}
CONFIG = PlatformConfig()


def rendered(config: PlatformConfig = CONFIG) -> dict[str, dict]:
    return {obj["kind"]: obj for obj in deploy_access.render(config)}


def test_the_role_has_exactly_the_published_rules():
    assert rendered()["Role"]["rules"] == PUBLISHED["Role"]["rules"]


def test_names_namespace_and_role_reference_are_the_published_ones():
    objects = rendered()
    assert [obj["kind"] for obj in deploy_access.render(CONFIG)] == ["ServiceAccount", "Role", "RoleBinding"]
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        assert objects[kind]["metadata"]["name"] == PUBLISHED[kind]["metadata"]["name"] == "drone-kit-deploy"
    for kind in ("Role", "RoleBinding"):
        assert objects[kind]["metadata"]["namespace"] == PUBLISHED[kind]["metadata"]["namespace"] == "default"
    assert objects["RoleBinding"]["roleRef"] == PUBLISHED["RoleBinding"]["roleRef"]


def test_the_service_account_lives_where_builds_run():
    config = replace(CONFIG, drone=DroneSection(build_namespace="ci-builds"))
    objects = rendered(config)
    assert objects["ServiceAccount"]["metadata"]["namespace"] == "ci-builds"
    assert objects["RoleBinding"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "drone-kit-deploy", "namespace": "ci-builds"}]
    assert rendered()["ServiceAccount"]["metadata"]["namespace"] == "drone-builds"


def test_rendering_twice_shares_nothing():
    first = rendered()["Role"]
    first["rules"][0]["verbs"].append("delete")
    assert "delete" not in rendered()["Role"]["rules"][0]["verbs"]
