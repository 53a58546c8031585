"""Reading `platform.yaml`: defaults for what it leaves out, every problem at once, and the
example `init` writes."""

from __future__ import annotations

from dataclasses import fields

import pytest
import yaml

from drone_kit.errors import DroneKitError, SettingsError, error_lines
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_example import example_yaml
from drone_kit.platform.config_file import PlatformConfigError, load_config, read_config
from drone_kit.platform.config_rules import config_keys


def problems_of(text: str) -> list[str]:
    with pytest.raises(PlatformConfigError) as caught:
        load_config(text)
    return caught.value.problems


@pytest.mark.parametrize("text", ["", "# nothing set\n", "gitea:\n  # ip: 192.168.1.201\n", "server: {}\n"])
def test_an_empty_file_or_section_is_the_default_platform(text):
    assert load_config(text) == PlatformConfig()


def test_the_keys_written_replace_their_defaults_and_nothing_else():
    config = load_config("""
server:
  address: 10.0.0.5
metallb:
  pool: 10.0.0.64/27
  webhook_timeout: 60
gitea:
  ip: 10.0.0.70
drone:
  ip: 10.0.0.71
  runner_capacity: 1
monitoring:
  grafana_ip: 10.0.0.72
images:
  gitea: mirror.lan:5000/gitea/gitea:1.22.6
""")
    defaults = PlatformConfig()
    assert config.server.address == "10.0.0.5"
    assert config.registry_host == "10.0.0.5:30500"
    assert config.metallb.pool == "10.0.0.64/27"
    assert config.metallb.webhook_timeout == 60.0 and isinstance(config.metallb.webhook_timeout, float)
    assert (config.gitea.ip, config.drone.ip, config.monitoring.grafana_ip) == ("10.0.0.70", "10.0.0.71", "10.0.0.72")
    assert config.drone.runner_capacity == 1
    assert config.images.gitea == "mirror.lan:5000/gitea/gitea:1.22.6"
    assert config.images.grafana == defaults.images.grafana
    assert config.metallb.version == defaults.metallb.version
    assert config.gitea.http_port == defaults.gitea.http_port


def test_every_problem_is_reported_at_once_in_file_order():
    problems = problems_of("""
gitea:
  ip: 192.168.1.250
  http_port: "3000"
server:
  adress: 192.168.1.70
registry:
  node_port: 5000
  storage: 10GB
images:
  grafana: grafana/grafana:latest
monitoring:
  prometheus_retention: 5 days
drone:
  runner_capacity: true
""")
    assert problems == [
        "server.adress: unknown key (did you mean address?): server has address, node, storage_class",
        "registry.node_port: 5000 is outside Kubernetes' NodePort range 30000-32767: pick a port inside it, e.g. 30500",
        "registry.storage: '10GB' is not a Kubernetes size (did you mean 10Gi?): write a number and a unit, "
        "e.g. 10Gi or 500Mi",
        "gitea.ip: '192.168.1.250' is not in metallb.pool 192.168.1.200-192.168.1.210: pick an address inside the pool",
        "gitea.http_port: '3000' is text, not a whole number: remove the quotes",
        "drone.runner_capacity: true is a boolean, not a whole number: write it like 2",
        "monitoring.prometheus_retention: '5 days' is not a duration: write a number and a unit "
        "(ms, s, m, h, d, w, y), e.g. 30s, 12h or 5d; combined units go largest first, e.g. 1d12h",
        "images.grafana: 'grafana/grafana:latest' is tagged latest: pin a version, e.g. name:1.2.3, "
        "so a re-run installs the same thing",
    ]


def test_the_error_is_a_settings_error_shown_as_one_line_per_problem():
    with pytest.raises(SettingsError) as caught:
        load_config("gitea:\n  ip: 192.168.1.250\ndrone:\n  ip: 192.168.1.9\n", source="lab.yaml")
    error = caught.value
    assert isinstance(error, PlatformConfigError) and error.exit_code == 2
    lines = error_lines(error)
    assert lines[0] == "Error: lab.yaml has 2 problems"
    assert lines[1].startswith("  - gitea.ip: '192.168.1.250' is not in metallb.pool")
    assert lines[2].startswith("  - drone.ip: '192.168.1.9' is not in metallb.pool")
    assert lines[3].startswith("Hint: `drone_kit init example.yaml` writes an example")


def test_one_problem_is_the_error_line_itself():
    with pytest.raises(PlatformConfigError) as caught:
        load_config("timeouts:\n  ready: 0\n")
    assert caught.value.message == "platform.yaml: timeouts.ready: 0.0 is not more than 0: give a positive number"
    assert caught.value.details == []


def test_unknown_sections_and_keys_suggest_the_closest_name():
    assert problems_of("monitorin:\n  grafana_ip: 192.168.1.203\n") == [
        "monitorin: unknown section (did you mean monitoring?): the sections are "
        "server, metallb, registry, gitea, drone, monitoring, shim, images, timeouts"]
    assert problems_of("images:\n  grafanna: grafana/grafana:11.3.1\n")[0].startswith(
        "images.grafanna: unknown key (did you mean grafana?)")
    assert "did you mean" not in problems_of("zzz: 1\n")[0]


@pytest.mark.parametrize("text, problem", [
    ("server:\n  node: no\n", "server.node: false is a boolean, not text: put it in quotes, e.g. 'no'"),
    ("metallb:\n  version: 0.16\n", "metallb.version: 0.16 is a number, not text: put it in quotes: '0.16'"),
    ("registry:\n  node_port: port\n", "registry.node_port: 'port' is text, not a whole number: write it like 30500"),
    ("gitea:\n  http_port: 3000.5\n", "gitea.http_port: 3000.5 is a number, not a whole number: write it like 3000"),
    ("timeouts:\n  ready: yes\n", "timeouts.ready: true is a boolean, not a number: write it like 300.0"),
    ("gitea:\n  ip: [192.168.1.201]\n",
     "gitea.ip: ['192.168.1.201'] is a list, not text: write it like '192.168.1.201'"),
    ("gitea:\n  ip:\n", "gitea.ip: has no value: write one, or remove the key to keep the default '192.168.1.201'"),
    ("gitea: 1\n", "gitea: 1 is a whole number, not a mapping: indent its keys under `gitea:` "
                   "(ip, http_port, admin_user, admin_email, storage)"),
])
def test_a_value_of_the_wrong_type_says_what_it_is_and_how_to_fix_it(text, problem):
    assert problems_of(text) == [problem]


def test_service_addresses_must_be_distinct_and_the_server_outside_the_pool():
    assert problems_of("drone:\n  ip: 192.168.1.201\nserver:\n  address: 192.168.1.205\n") == [
        "server.address: '192.168.1.205' is inside metallb.pool 192.168.1.200-192.168.1.210: MetalLB would hand "
        "the node's own address to a service; move the pool off it",
        "drone.ip: '192.168.1.201' is also gitea.ip: give each service its own address from the pool",
    ]


def test_moving_the_pool_names_each_default_address_left_outside_it():
    assert problems_of("metallb:\n  pool: 10.0.0.0/24\n") == [
        f"{path}: '{address}' (the default) is not in metallb.pool 10.0.0.0/24: pick an address inside the pool"
        for path, address in [("gitea.ip", "192.168.1.201"), ("drone.ip", "192.168.1.202"),
                              ("monitoring.grafana_ip", "192.168.1.203")]]


def test_a_malformed_pool_is_reported_once_without_a_cascade():
    assert problems_of("metallb:\n  pool: 192.168.1.210-192.168.1.200\n") == [
        "metallb.pool: '192.168.1.210-192.168.1.200' starts after it ends: write the lower address first "
        "(192.168.1.200-192.168.1.210)"]


def test_a_wrongly_typed_address_is_not_also_checked_against_the_pool():
    assert len(problems_of("gitea:\n  ip: 5\n")) == 1


@pytest.mark.parametrize("text, expected", [
    ("server:\n  address: [\n", "platform.yaml: line 3, column 1: YAML error: expected the node content"),
    ("server:\naddress: 1\n  node: x\n", "platform.yaml: line 3, column 7: YAML error: mapping values are not allowed"),
    ("gitea:\n  ip: 192.168.1.201\ngitea:\n  http_port: 3000\n",
     "platform.yaml: line 3, column 1: YAML error: 'gitea' is written twice (first on line 1): merge them into one"),
])
def test_yaml_errors_are_one_line_with_the_line_number(text, expected):
    with pytest.raises(PlatformConfigError) as caught:
        load_config(text)
    assert caught.value.message.startswith(expected)
    assert caught.value.details == []


@pytest.mark.parametrize("text, kind", [("- server\n", "a list"), ("just text\n", "text"), ("3\n", "a whole number")])
def test_a_file_that_is_not_a_mapping_says_so(text, kind):
    assert problems_of(text) == [f"the file is {kind}, not a mapping of sections: start lines with section keys "
                                 "such as `server:` and `metallb:`"]


def test_read_config_reads_the_file_and_names_it_in_problems(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text("registry:\n  node_port: 30600\n")
    assert read_config(path).registry_host == "192.168.1.70:30600"
    path.write_text("registry:\n  node_port: 80\n")
    with pytest.raises(PlatformConfigError) as caught:
        read_config(path)
    assert caught.value.message.startswith(f"{path}: registry.node_port: 80 is outside")


def test_read_config_without_a_path_is_the_defaults_and_a_missing_file_says_how_to_make_one(tmp_path):
    assert read_config(None) == PlatformConfig()
    missing = tmp_path / "platform.yaml"
    with pytest.raises(DroneKitError) as caught:
        read_config(missing)
    assert error_lines(caught.value) == [f"Error: cannot read {missing}: No such file or directory",
                                         f"Hint: write one with `drone_kit init {missing}`, "
                                         "or leave out --config for the defaults"]


def test_the_example_is_the_default_platform():
    assert load_config(example_yaml()) == PlatformConfig()


def test_the_example_writes_every_key_with_its_default_and_a_comment():
    text = example_yaml()
    document = yaml.safe_load(text)
    defaults = PlatformConfig()
    assert list(document) == [section.name for section in fields(PlatformConfig)]
    for key in config_keys():
        assert document[key.section][key.name] == getattr(getattr(defaults, key.section), key.name), key.path
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("  ") and not line.lstrip().startswith("#"):
            assert lines[index - 1].startswith("  # "), f"no comment above {line!r}"


def test_the_example_has_the_seed_platform_and_an_app_image_name():
    text = example_yaml()
    assert "  address: 192.168.1.70\n" in text
    assert "  pool: 192.168.1.200-192.168.1.210\n" in text
    assert "  node_port: 30500\n" in text
    assert "192.168.1.70:30500/our-task/nginx-demo:latest" in text
