"""The shim's component: what it renders is what `drone_kit shim serve` accepts and what the shim's
app answers. Pure, except that the probe and scrape paths are asked of the app in this process."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import PurePosixPath

import pytest
from starlette.testclient import TestClient

from drone_kit import __version__
from drone_kit.cli.shim_commands import ENV, serve
from drone_kit.platform.components import shim
from drone_kit.platform.config import PlatformConfig, ServerSection, ShimSection
from tests.shim.support import shim_app

CONFIG = PlatformConfig()


def rendered(config: PlatformConfig = CONFIG) -> dict[str, dict]:
    return {obj["kind"]: obj for obj in shim.render(config)}


def the_container(config: PlatformConfig = CONFIG) -> dict:
    (container,) = rendered(config)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def test_it_renders_its_namespace_volume_deployment_and_service():
    objects = shim.render(CONFIG)
    assert [obj["kind"] for obj in objects] == ["Namespace", "PersistentVolumeClaim", "Deployment", "Service"]
    assert objects[0]["metadata"]["name"] == "drone-kit"
    assert {obj["metadata"]["namespace"] for obj in objects[1:]} == {"drone-kit"}


def test_the_image_is_drone_kits_own_at_this_version():
    assert the_container()["image"] == f"192.168.1.70:30500/drone-kit/shim:{__version__}"
    assert not the_container()["image"].endswith(":latest")


def test_the_arguments_and_environment_are_what_shim_serve_accepts(monkeypatch):
    container = the_container(replace(CONFIG, shim=ShimSection(retention="3d")))
    assert container["command"] == ["drone_kit", "shim", "serve"]
    for name in [name for name in os.environ if name.startswith(ENV)]:
        monkeypatch.delenv(name)
    for variable in container["env"]:  # as the kubelet would resolve the Secrets
        monkeypatch.setenv(variable["name"], f"value of {variable['name']}")
    options = {option.envvar for option in serve.params}
    assert {variable["name"] for variable in container["env"]} <= options
    params = serve.make_context("serve", list(container["args"])).params
    assert params["drone_url"] == "http://drone.drone.svc"
    assert params["retention"] == 3 * 86400
    assert params["hook_secret"] == "value of DRONE_KIT_SHIM_HOOK_SECRET"
    assert params["webhook_secret"] and params["drone_token"]
    assert params["listen"] == "0.0.0.0:8080"


def test_secrets_come_only_from_secrets():
    refs = {variable["name"]: variable["valueFrom"]["secretKeyRef"] for variable in the_container()["env"]}
    assert all("value" not in variable for variable in the_container()["env"])
    assert refs["DRONE_KIT_SHIM_HOOK_SECRET"] == {"name": shim.SIGNERS.name, "key": "hook-secret"}
    assert refs["DRONE_KIT_SHIM_WEBHOOK_SECRET"] == {"name": shim.SIGNERS.name, "key": "webhook-secret"}
    # Created once Drone is wired to Gitea: the shim starts without it.
    assert refs["DRONE_KIT_SHIM_DRONE_TOKEN"] == {"name": "shim-drone-token", "key": "token", "optional": True}
    assert shim.COMPONENT.secrets(CONFIG) == [shim.SIGNERS]
    assert shim.SIGNERS.namespace == "drone-kit" and set(shim.SIGNERS.keys) == {"hook-secret", "webhook-secret"}


def test_the_outbox_is_on_the_claimed_volume():
    objects = rendered(replace(CONFIG, shim=ShimSection(storage="3Gi"), server=ServerSection(storage_class="fast")))
    claim, pod = objects["PersistentVolumeClaim"], objects["Deployment"]["spec"]["template"]["spec"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "3Gi"
    assert claim["spec"]["storageClassName"] == "fast"
    (volume,) = pod["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    (mount,) = pod["containers"][0]["volumeMounts"]
    args = pod["containers"][0]["args"]
    outbox = PurePosixPath(args[args.index("--outbox") + 1])
    assert mount["name"] == volume["name"] and PurePosixPath(mount["mountPath"]) in outbox.parents
    # One writer per SQLite outbox, and the volume is pinned to a node.
    assert objects["Deployment"]["spec"]["strategy"]["type"] == "Recreate"


def test_probes_and_scrape_annotations_name_paths_the_shim_answers(tmp_path):
    container = the_container()
    annotations = rendered()["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
    client = TestClient(shim_app(tmp_path, "http://127.0.0.1:9"))  # no lifespan: Drone is never called
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        assert probe["httpGet"]["port"] == container["ports"][0]["name"]
        assert client.get(probe["httpGet"]["path"]).status_code == 200
    metrics = client.get(annotations["prometheus.io/path"])
    assert metrics.status_code == 200 and "drone_kit_shim_" in metrics.text
    # Not /readyz: it fails while Drone is down, when the shim must keep taking hooks.
    assert client.get("/readyz").status_code == 503
    assert "readyz" not in str(container["readinessProbe"])


def test_it_is_sized_and_sealed():
    container, pod = the_container(), rendered()["Deployment"]["spec"]["template"]["spec"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False


def test_the_service_sends_port_80_to_the_listening_port():
    service, container = rendered()["Service"], the_container()
    (port,) = service["spec"]["ports"]
    assert service["metadata"]["name"] == "shim" and service["spec"]["type"] == "ClusterIP"
    assert port["port"] == 80 and port["targetPort"] == container["ports"][0]["containerPort"] == 8080
    assert service["spec"]["selector"].items() <= rendered()["Deployment"]["spec"]["template"]["metadata"][
        "labels"].items()
    args = container["args"]
    assert args[args.index("--listen") + 1].endswith(":8080")


@pytest.mark.parametrize("attribute", ["checks", "url"])
def test_readiness_and_url_go_through_the_service(attribute):
    if attribute == "checks":
        (check,) = shim.COMPONENT.checks(CONFIG)
        assert (check.namespace, check.service, check.port, check.path) == ("drone-kit", "shim", 80, "/healthz")
    else:
        assert shim.COMPONENT.url(CONFIG) == "http://shim.drone-kit.svc"
