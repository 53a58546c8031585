"""Pure: what bootstrap prints for steps only a person at a node can take: joining an agent node
(with the registries.yaml it needs first) and pushing drone_kit's own images. Text only."""

from __future__ import annotations

from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.registries_file import REGISTRIES_PATH, registries_yaml

NODE_TOKEN = "/var/lib/rancher/k3s/server/node-token"


def join_agent_lines(config: PlatformConfig) -> list[str]:
    text = registries_yaml(config.registry_host).replace("\n", "\\n")
    return [
        "to add an agent node, on it as root:",
        f"  mkdir -p /etc/rancher/k3s && printf '{text}' > {REGISTRIES_PATH}",
        f"  curl -sfL https://get.k3s.io | K3S_URL=https://{config.server.address}:6443 "
        f"K3S_TOKEN=<the content of {NODE_TOKEN} on the server> sh -",
    ]


def images_push_line(config: PlatformConfig) -> str:
    return (f"drone_kit's images are not in the registry yet: from a drone_kit checkout on a machine with "
            f"Docker, run `drone_kit images push --config platform.yaml` (pushes to {config.registry_host})")
