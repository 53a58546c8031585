"""The checks of single `platform.yaml` values, and which key gets which check."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drone_kit.platform import config_checks as check
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_rules import config_keys, config_problems, rule_for

addresses = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(addresses, addresses, addresses)
def test_a_range_pool_holds_exactly_the_addresses_between_its_ends(a, b, probe):
    first, last = sorted((a, b))
    assert check.parse_pool(f"{first}-{last}") == (first, last)
    assert check.in_pool(str(probe), f"{first}-{last}") == (first <= probe <= last)


@given(addresses, st.integers(0, 32), addresses)
def test_a_cidr_pool_holds_exactly_its_network(address, prefix, probe):
    network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    assert check.pool_problem(str(network)) is None
    assert check.in_pool(str(probe), str(network)) == (probe in network)


@given(addresses, addresses)
def test_a_range_written_backwards_is_refused_with_the_right_order(a, b):
    if a == b:
        return
    low, high = sorted((a, b))
    assert check.pool_problem(f"{high}-{low}") == f"starts after it ends: write the lower address first ({low}-{high})"


@pytest.mark.parametrize("pool, says", [
    ("192.168.1.200 - 192.168.1.210", "no spaces"),
    ("192.168.1.200-192.168.1", "range of two IPv4 addresses"),
    ("192.168.1.5/24", "host bits set: the network is 192.168.1.0/24"),
    ("192.168.1.0/33", "prefix length"),
    ("192.168.1.200", "neither first-last nor a CIDR"),
    ("fd00::/64", "not an IPv4 CIDR"),
])
def test_a_malformed_pool_says_how_to_write_it(pool, says):
    assert says in (check.pool_problem(pool) or "")


@pytest.mark.parametrize("value", ["192.168.1.70", "10.0.0.1", "0.0.0.0"])
def test_ipv4_addresses_pass(value):
    assert check.ipv4_problem(value) is None


@pytest.mark.parametrize("value", ["192.168.1", "192.168.1.256", "192.168.001.70", "host.lan", "::1", ""])
def test_what_is_not_an_ipv4_address_fails(value):
    assert "is not an IPv4 address" in (check.ipv4_problem(value) or "")


@pytest.mark.parametrize("value", ["10Gi", "500Mi", "1.5Gi", "1G", "2e9", "1024"])
def test_kubernetes_sizes_pass(value):
    assert check.size_problem(value) is None


@pytest.mark.parametrize("value, says", [
    ("10GB", "did you mean 10Gi?"), ("10 gi", "did you mean 10Gi?"), ("10gib", "did you mean 10Gi?"),
    ("ten", "not a Kubernetes size"), ("-1Gi", "not a Kubernetes size"), ("500m", "not a Kubernetes size"),
    ("0Gi", "is zero"), ("", "not a Kubernetes size"),
])
def test_what_is_not_a_size_fails_with_a_suggestion(value, says):
    assert says in (check.size_problem(value) or "")


@pytest.mark.parametrize("value", ["5d", "12h", "30s", "1w", "1d12h", "90s", "500ms", "1y"])
def test_prometheus_durations_pass(value):
    assert check.duration_problem(value) is None


@pytest.mark.parametrize("value, says", [
    ("5 days", "not a duration"), ("12H", "not a duration"), ("12h1d", "largest first"), ("", "not a duration"),
    ("1.5h", "not a duration"), ("0", "is zero"), ("0s", "is zero"),
])
def test_what_is_not_a_duration_fails(value, says):
    assert says in (check.duration_problem(value) or "")


@pytest.mark.parametrize("value, ok", [
    ("gitea/gitea:1.22.6", True), ("192.168.1.70:30500/mirror/gitea:1.22.6", True),
    ("busybox@sha256:" + "a" * 64, True), ("gitea/gitea:latest@sha256:" + "b" * 64, True),
    ("gitea/gitea", False), ("gitea/gitea:latest", False), ("Gitea/gitea:1", False), ("gitea:", False),
])
def test_platform_images_must_be_valid_and_pinned(value, ok):
    assert (check.pinned_image_problem(value) is None) == ok


def test_an_unpinned_image_says_to_pin_a_version():
    assert "tagged latest: pin a version" in (check.pinned_image_problem("grafana/grafana:latest") or "")
    assert "has no tag: pin a version" in (check.pinned_image_problem("grafana/grafana") or "")


@pytest.mark.parametrize("check_, good, bad", [
    (check.dns_label_problem, ["drone-builds", "b1"], ["Drone", "drone_builds", "-x", "x-", "a" * 64, "a.b"]),
    (check.dns_name_problem, ["local-path", "pi-1.lan"], ["", "Pi1", "a..b", "x-"]),
    (check.optional_dns_name_problem, ["", "pi-1"], ["PI"]),
    (check.sha256_problem, ["0" * 64], ["0" * 63, "A" * 64, "g" * 64]),
    (check.url_problem, ["https://h/x.yaml", "http://127.0.0.1:8080/m.yaml"], ["ftp://h/x", "h/x.yaml", "https://"]),
    (check.release_problem, ["v0.16.1"], ["0.16.1", "v0.16", "latest"]),
    (check.gitea_user_problem, ["drone-kit-admin", "git.ops"], ["admin", "Admin", "a--b", "a-", "-a", "a b"]),
    (check.email_problem, ["admin@example.com"], ["admin", "admin@", "a@b"]),
    (check.project_problem, ["our-task", "team/app-set"], ["Our", "our task", "our:task", ""]),
    (check.repository_prefix_problem, ["", "192.168.1.70:30500/drone-kit", "drone-kit"], ["reg:5000/x:1", "X/y"]),
    (check.port_problem, [1, 3000, 65535], [0, 65536]),
    (check.node_port_problem, [30000, 30500, 32767], [29999, 32768, 5000]),
    (check.positive_problem, [0.5, 1], [0, -1.0]),
])
def test_value_checks(check_, good, bad):
    assert [value for value in good if check_(value) is not None] == []
    assert [value for value in bad if check_(value) is None] == []


def test_every_key_of_the_config_has_a_check():
    """A new key named by the convention gets its check; any other needs a rule in config_rules."""
    assert [key.path for key in config_keys() if rule_for(key.path) is None] == []


@pytest.mark.parametrize("path, expected", [
    ("gitea.ip", check.ipv4_problem), ("monitoring.grafana_ip", check.ipv4_problem),
    ("registry.storage", check.size_problem), ("monitoring.prometheus_storage", check.size_problem),
    ("server.storage_class", check.dns_name_problem), ("shim.retention", check.duration_problem),
    ("monitoring.scrape_interval", check.duration_problem), ("registry.node_port", check.node_port_problem),
    ("gitea.http_port", check.port_problem), ("images.gitea", check.pinned_image_problem),
    ("images.drone_kit", check.repository_prefix_problem), ("metallb.webhook_timeout", check.positive_problem),
    ("drone.build_namespace", check.dns_label_problem), ("future.some_storage", check.size_problem),
])
def test_keys_get_their_checks_by_name(path, expected):
    assert rule_for(path) is expected


def test_the_defaults_have_no_problems():
    assert config_problems(PlatformConfig()) == []
