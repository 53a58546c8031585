import base64

import pytest

from drone_kit.clients.kubeconfig import parse_kubeconfig
from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.plugins.deploy.preflight import check_image_pushed, choose_container, image_to_deploy
from drone_kit.step.results import write_result
from tests.stack.registry import free_port

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:6443'}\n"


@pytest.mark.parametrize("text", [KUBECONFIG, base64.b64encode(KUBECONFIG.encode()).decode(),
                                  base64.b64encode(KUBECONFIG.encode()).decode() + "\n"])
def test_kubeconfig_as_yaml_or_base64(text):
    assert parse_kubeconfig(text)["clusters"][0]["name"] == "c"


@pytest.mark.parametrize("text", ["hunter2-token", "clusters: [", "a: b"])
def test_not_a_kubeconfig_never_quotes_it(text):
    with pytest.raises(DroneKitError) as caught:
        parse_kubeconfig(text)
    assert text not in caught.value.message and "settings.kubeconfig" in caught.value.message


def test_image_from_build_push_result(tmp_path):
    with pytest.raises(SettingsError, match="no .drone-kit/image.json"):
        image_to_deploy(None, tmp_path)
    write_result(tmp_path, "image", {"image": "reg.lab/app@sha256:" + "a" * 64})
    assert image_to_deploy(None, tmp_path) == "reg.lab/app@sha256:" + "a" * 64


def test_choose_container():
    template = {"spec": {"containers": [{"name": "web"}, {"name": "proxy"}]}}
    assert choose_container(template, "proxy", "d") == "proxy"
    with pytest.raises(SettingsError, match=r"d has 2 containers \(web, proxy\); name the one to change"):
        choose_container(template, None, "d")


def test_image_check_against_a_real_registry(engine, registry, base_image):
    engine.client.images.get(base_image).tag(f"{registry.host}/pre/flight", "v1")
    assert not [e for e in engine.client.images.push(f"{registry.host}/pre/flight", "v1", stream=True, decode=True)
                if "error" in e]
    said = []
    check_image_pushed(f"{registry.host}/pre/flight:v1", said.append)
    assert said[0].startswith(f"image {registry.host}/pre/flight:v1 is in its registry (sha256:")
    with pytest.raises(DroneKitError, match="is not in its registry: it was never pushed"):
        check_image_pushed(f"{registry.host}/pre/flight:v404", said.append)


def test_an_unreachable_registry_is_not_a_failure():
    said = []
    check_image_pushed(f"127.0.0.1:{free_port()}/app:v1", said.append)
    assert said[0].startswith("image not checked: registry 127.0.0.1:")
