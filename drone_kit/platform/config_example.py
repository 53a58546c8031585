"""The commented example `platform.yaml` that `drone_kit init` writes: every section and key with
its default and what it is for. Pure.

Keys and values come from the dataclasses, so the example cannot drift from them; a key without
a comment here is a KeyError (and a failing test).
"""

from __future__ import annotations

import yaml

from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_rules import config_keys, value_at

_DEFAULTS = PlatformConfig()
_APP_IMAGE = f"{_DEFAULTS.registry_host}/{_DEFAULTS.registry.project}/nginx-demo:latest"

HEADER = """\
# platform.yaml: the home-lab CI/CD platform `drone_kit bootstrap --config platform.yaml` installs on k3s.
# Every key is optional: one left out keeps the default written here. Addresses are the seed
# platform's (server node 192.168.1.70, MetalLB pool 192.168.1.200-192.168.1.210); change them
# to your LAN's. `drone_kit bootstrap --dry-run` checks the file and contacts nothing.
"""

COMMENTS = {
    "server": "The k3s server node.",
    "server.address": "Its LAN address: NodePorts (the registry's too) are reached on it. Not inside metallb.pool.",
    "server.node": 'Its Kubernetes node name; "" = the node labelled as control plane.',
    "server.storage_class": "The StorageClass of every volume; local-path is k3s's default (node-pinned volumes).",
    "metallb": "MetalLB (L2 mode) gives services fixed LAN addresses; k3s must run with `--disable servicelb`.",
    "metallb.pool": 'Addresses MetalLB may hand out: "first-last" or a CIDR; free on your LAN, off your DHCP range.',
    "metallb.pool_name": "The name of its IPAddressPool (and L2Advertisement) in metallb-system.",
    "metallb.version": "The MetalLB release installed; change manifest_url and manifest_sha256 with it.",
    "metallb.manifest_url": "Where its native manifest is downloaded from (a mirror's URL for air-gapped installs).",
    "metallb.manifest_sha256": "The manifest's sha256 (`sha256sum metallb-native.yaml`); another download is refused.",
    "metallb.webhook_timeout": "Seconds to wait for MetalLB's webhook to accept the pool after the install.",
    "registry": "The platform's image registry (plain HTTP), on a NodePort of the server node.",
    "registry.node_port": f"Its NodePort (30000-32767): images are pushed to and pulled from {_DEFAULTS.registry_host}",
    "registry.storage": "The size of its volume (a Kubernetes quantity: 10Gi, 500Mi).",
    "registry.project": f"The first path part of your apps' images, as in {_APP_IMAGE}.",
    "gitea": "Gitea, the Git server (SQLite on a volume).",
    "gitea.ip": "Its fixed address from metallb.pool; its web UI and clone URLs use it.",
    "gitea.http_port": "The port its web UI and API answer on at that address.",
    "gitea.admin_user": 'The first admin user drone_kit creates (not a name Gitea reserves, such as "admin").',
    "gitea.admin_email": "That admin's email address.",
    "gitea.storage": "The size of its volume: repositories and the SQLite database.",
    "drone": "Drone, the CI server, and its Kubernetes runner.",
    "drone.ip": "Drone's fixed address from metallb.pool; its web UI and Gitea's webhooks use it.",
    "drone.build_namespace": "The namespace build pods run in.",
    "drone.runner_capacity": "How many builds the runner runs at once (1-2 suits a Raspberry Pi).",
    "drone.storage": "The size of Drone's volume (its SQLite database).",
    "monitoring": "Prometheus and Grafana, sized for a Raspberry Pi.",
    "monitoring.grafana_ip": "Grafana's fixed address from metallb.pool.",
    "monitoring.prometheus_retention": "How long Prometheus keeps samples (a duration: 12h, 5d, 1w).",
    "monitoring.prometheus_storage": "The size of Prometheus's volume.",
    "monitoring.scrape_interval": "How often Prometheus scrapes its targets (30s, 1m).",
    "shim": "drone_kit's shim between Gitea and Drone, with an outbox of webhooks on a volume.",
    "shim.storage": "The size of the outbox's volume.",
    "shim.retention": "How long delivered webhooks are kept (a duration: 12h, 7d).",
    "images": "The images the platform runs: pinned multi-arch versions; a mirror's for air-gapped installs.",
    "images.registry": "The registry (distribution).",
    "images.gitea": "Gitea.",
    "images.drone": "The Drone server.",
    "images.drone_runner": "Drone's Kubernetes runner.",
    "images.prometheus": "Prometheus.",
    "images.node_exporter": "The node exporter, one pod per node.",
    "images.grafana": "Grafana.",
    "images.metallb_controller": 'MetalLB\'s controller; "" = the one its pinned manifest names (a mirror goes here).',
    "images.metallb_speaker": 'MetalLB\'s speaker; "" = the one its pinned manifest names.',
    "images.drone_kit": f'Where drone_kit\'s own images are; "" = {_DEFAULTS.registry_host}/drone-kit.',
    "timeouts": "How long drone_kit waits.",
    "timeouts.ready": "Seconds one component may take to become ready (a Raspberry Pi is slow to pull and start).",
}


def _scalar(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1000).removesuffix("\n").removesuffix("\n...")


def example_yaml() -> str:
    """Pure: the example `platform.yaml`; it loads to PlatformConfig()."""
    lines = [HEADER.rstrip("\n")]
    section = ""
    for key in config_keys():
        if key.section != section:
            section = key.section
            lines += ["", f"# {COMMENTS[section]}", f"{section}:"]
        lines += [f"  # {COMMENTS[key.path]}", f"  {key.name}: {_scalar(value_at(_DEFAULTS, key))}"]
    return "\n".join(lines) + "\n"
