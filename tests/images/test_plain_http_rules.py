import pytest

from drone_kit.clients.docker_engine import explain_push_error
from drone_kit.images.plain_http import daemon_trusts_plain_http, is_loopback_registry, scheme_rule, split_host


@pytest.mark.parametrize(
    "host, insecure, expected",
    [
        ("192.168.1.70:30500", ["auto"], "probe"),
        ("192.168.1.70:30500", [], "probe"),
        ("192.168.1.70:30500", ["true"], "http"),
        ("192.168.1.70:30500", ["false"], "https"),
        ("192.168.1.70:30500", ["192.168.1.70:30500"], "http"),
        ("192.168.1.70:30500", ["192.168.1.70"], "http"),
        ("192.168.1.70:30500", ["192.168.1.0/24"], "http"),
        ("192.168.1.70:30500", ["10.0.0.0/8", "registry.lab"], "https"),
        ("registry.lab:5000", ["registry.lab"], "http"),
        ("registry.lab", ["other.lab"], "https"),
    ],
)
def test_scheme_rule(host, insecure, expected):
    assert scheme_rule(host, insecure) == expected


INFO = {
    "RegistryConfig": {
        "InsecureRegistryCIDRs": ["127.0.0.0/8"],
        "IndexConfigs": {"docker.io": {"Secure": True}, "registry.lab:5000": {"Secure": False}},
    }
}


@pytest.mark.parametrize(
    "host, expected",
    [("127.0.0.1:5000", True), ("registry.lab:5000", True), ("10.231.0.2:5000", False), ("docker.io", False),
     ("other.lab:5000", False)],
)
def test_daemon_trusts_plain_http(host, expected):
    assert daemon_trusts_plain_http(INFO, host) is expected


@pytest.mark.parametrize(
    "message, starts, hint",
    [
        ('Get "https://10.231.0.2:5000/v2/": http: server gave HTTP response to HTTPS client',
         "registry r:1 speaks plain HTTP", "--insecure-registry r:1"),
        ("unauthorized: authentication required", "registry r:1 refused the login", "settings.password"),
        ("write /var/lib/docker/tmp/x: no space left on device", "the disk is full", "free space"),
        ('Get "http://r:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', "registry r:1 is unreachable",
         "settings.repo"),
    ],
)
def test_explain_push_error(message, starts, hint):
    error = explain_push_error(message, "r:1")
    assert error.message.startswith(starts)
    assert hint in error.hint


@pytest.mark.parametrize(
    "host, expected",
    [("127.0.0.1:5000", True), ("localhost:5000", True), ("[::1]:5000", True), ("127.8.0.1", True),
     ("192.168.1.70:30500", False), ("registry.lab", False)],
)
def test_is_loopback_registry(host, expected):
    assert is_loopback_registry(host) is expected


@pytest.mark.parametrize(
    "host, expected",
    [("reg.lab:5000", ("reg.lab", 5000)), ("reg.lab", ("reg.lab", None)), ("[::1]:5000", ("::1", 5000)),
     ("127.0.0.1", ("127.0.0.1", None))],
)
def test_split_host(host, expected):
    assert split_host(host) == expected
