"""The kubeconfig setting's secrets are masked each on its own, in the YAML and the base64 form:
a token printed alone (an error quoting a header, a debug line) never reaches the log. A kubeconfig
that is none, or that no client can use, is a bad setting: exit 2, as every other bad setting."""

from __future__ import annotations

import base64

import pytest
import yaml
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.plugins.catalog import PLUGINS
from drone_kit.plugins.cluster import CLUSTER_SETTINGS
from drone_kit.step.masking import MASK
from drone_kit.step.plugin import Plugin, run_plugin
from drone_kit.step.results import write_result

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZWFjY291bnQ.drone-kit-test-token"
KEY = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB4vdroneKitTestKey\n").decode()
PASSWORD = "hunter2-but-longer"
KUBECONFIG = yaml.safe_dump({
    "apiVersion": "v1", "kind": "Config", "current-context": "lab",
    "clusters": [{"name": "lab", "cluster": {"server": "https://192.168.1.70:6443"}}],
    "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "drone"}}],
    "users": [{"name": "drone", "user": {"token": TOKEN}},
              {"name": "admin", "user": {"client-key-data": KEY, "username": "admin", "password": PASSWORD}}],
})


def prints_each_secret(run):
    for secret in (TOKEN, KEY, PASSWORD, f"Authorization: Bearer {TOKEN}", "clusters:"):
        print(secret)


PRINTER = Plugin("printer", "Prints what the kubeconfig holds.", CLUSTER_SETTINGS, prints_each_secret)


@pytest.mark.parametrize("form", ["yaml", "base64"])
def test_each_secret_of_a_kubeconfig_is_masked_on_its_own(form, capsys, tmp_path):
    value = KUBECONFIG if form == "yaml" else base64.b64encode(KUBECONFIG.encode()).decode()
    assert run_plugin(PRINTER, {"PLUGIN_KUBECONFIG": value}, cwd=tmp_path) == 0
    out = capsys.readouterr().out
    for secret in (TOKEN, KEY, PASSWORD, "hunter2"):
        assert secret not in out
    assert out.splitlines()[:4] == [MASK, MASK, MASK, f"Authorization: Bearer {MASK}"]


def test_a_value_that_is_no_kubeconfig_is_a_bad_setting_and_never_shown(capsys, tmp_path):
    assert run_plugin(PRINTER, {"PLUGIN_KUBECONFIG": "not: [a kubeconfig"}, cwd=tmp_path) == 2
    out, err = capsys.readouterr()
    assert "settings.kubeconfig: expected a kubeconfig" in err and "a kubeconfig" not in out
    assert "not: [a" not in out + err


NOT_A_KUBECONFIG = ["not: [a kubeconfig", "just some text", base64.b64encode(b"users: []\n").decode(),
                    "kind: Config\nusers: []\n"]
# Well-formed, but no client can be made from it: no contexts, no current-context.
UNUSABLE = yaml.safe_dump({"clusters": [{"name": "lab", "cluster": {"server": "https://127.0.0.1:1"}}]})
WITH_KUBECONFIG = sorted(name for name, plugin in PLUGINS.items() if any(s.name == "kubeconfig"
                                                                         for s in plugin.settings))


def required(plugin: Plugin) -> dict[str, str]:
    return {s.env: "web" for s in plugin.settings if s.required}


def test_the_plugins_that_talk_to_a_cluster_have_the_setting():
    assert WITH_KUBECONFIG == ["deploy", "verify"]


@pytest.mark.parametrize("name", WITH_KUBECONFIG)
@pytest.mark.parametrize("value", NOT_A_KUBECONFIG)
def test_a_bad_kubeconfig_exits_2_like_every_bad_setting(name, value, capsys, tmp_path):
    plugin = PLUGINS[name]
    code = run_plugin(plugin, {**required(plugin), "PLUGIN_KUBECONFIG": value, "DRONE_WORKSPACE": str(tmp_path)})
    out, err = capsys.readouterr()
    assert code == 2, err
    assert ("Error: settings.kubeconfig: expected a kubeconfig (YAML with clusters, or its base64), "
            "got a secret value (not shown)") in err
    assert value not in out + err.replace("settings.kubeconfig", "")


@pytest.mark.parametrize("settings, message", [
    ({"PLUGIN_KUBECONFIG": UNUSABLE}, "Error: settings.kubeconfig: unusable: ConfigException: Invalid kube-config"),
    ({"PLUGIN_KUBECONFIG": KUBECONFIG, "PLUGIN_CONTEXT": "nope"},
     "Error: settings.context: no context 'nope' in settings.kubeconfig (it has: lab)"),
])
@pytest.mark.parametrize("name", WITH_KUBECONFIG)
def test_a_kubeconfig_no_client_can_use_exits_2(name, settings, message, capsys, tmp_path):
    env = {"DRONE_WORKSPACE": str(tmp_path), **settings}
    if name == "deploy":
        env |= {"PLUGIN_DEPLOYMENT": "web", "PLUGIN_IMAGE": "127.0.0.1:5000/web:v2"}
    else:  # verify reaches the cluster for the soak of what deploy changed
        env |= {"PLUGIN_SOAK": "5s"}
        write_result(tmp_path, "deploy", {"namespace": "demo", "deployments": [{"name": "web"}]})
    code = run_plugin(PLUGINS[name], env)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert TOKEN not in err


def test_by_hand_a_bad_kubeconfig_option_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["deploy", "--deployment", "web", "--kubeconfig", "garbage"])
    assert result.exit_code == 2
    assert "settings.kubeconfig: expected a kubeconfig" in result.stderr and "garbage" not in result.stderr


@pytest.mark.parametrize("name", WITH_KUBECONFIG)
def test_a_context_the_local_kubeconfig_lacks_exits_2(name, capsys, tmp_path):
    # By hand, without settings.kubeconfig: the context is looked for where kubectl would look.
    local = tmp_path / "config"
    local.write_text(KUBECONFIG)
    env = {"DRONE_WORKSPACE": str(tmp_path), "KUBECONFIG": str(local), "PLUGIN_CONTEXT": "nope"}
    if name == "deploy":
        env |= {"PLUGIN_DEPLOYMENT": "web", "PLUGIN_IMAGE": "127.0.0.1:5000/web:v2"}
    else:
        env |= {"PLUGIN_SOAK": "5s"}
        write_result(tmp_path, "deploy", {"namespace": "demo", "deployments": [{"name": "web", "changed": True}]})
    code = run_plugin(PLUGINS[name], env)
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"Error: settings.context: no context 'nope' in {local} (it has: lab)" in err
    assert TOKEN not in err
