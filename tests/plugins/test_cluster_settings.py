"""The kubeconfig setting's secrets are masked each on its own, in the YAML and the base64 form:
a token printed alone (an error quoting a header, a debug line) never reaches the log."""

from __future__ import annotations

import base64

import pytest
import yaml

from drone_kit.plugins.cluster import CLUSTER_SETTINGS
from drone_kit.step.masking import MASK
from drone_kit.step.plugin import Plugin, run_plugin

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


def test_a_value_that_is_no_kubeconfig_is_masked_whole_and_nothing_breaks(capsys, tmp_path):
    assert run_plugin(PRINTER, {"PLUGIN_KUBECONFIG": "not: [a kubeconfig"}, cwd=tmp_path) == 0
