"""What `platform.yaml` says: the platform's addresses, sizes and images, as frozen dataclasses.

Every field has the seed platform's default (server node 192.168.1.70, MetalLB pool
192.168.1.200-192.168.1.210, registry NodePort 30500), so an empty file is a valid platform.
Each section is one top-level key of `platform.yaml`; each field one key under it. Reading and
checking the file is `platform.config_file`; rendering reads these dataclasses only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The namespaces the platform owns; fixed, so docs, `status` and the Drone runner agree on them.
METALLB_NAMESPACE = "metallb-system"  # MetalLB's own manifest creates it
REGISTRY_NAMESPACE = "registry"
GITEA_NAMESPACE = "gitea"
DRONE_NAMESPACE = "drone"
MONITORING_NAMESPACE = "monitoring"
DRONE_KIT_NAMESPACE = "drone-kit"


@dataclass(frozen=True)
class ServerSection:
    address: str = "192.168.1.70"  # the k3s server node's LAN address: NodePorts, registry host
    node: str = ""  # its node name; "" = the node labelled as control plane
    storage_class: str = "local-path"  # k3s's default; node-pinned volumes


@dataclass(frozen=True)
class MetallbSection:
    pool: str = "192.168.1.200-192.168.1.210"  # "first-last" or a CIDR
    pool_name: str = "homelab-pool"
    version: str = "v0.16.1"
    manifest_url: str = ("https://raw.githubusercontent.com/metallb/metallb/v0.16.1/"
                         "config/manifests/metallb-native.yaml")
    manifest_sha256: str = "bf25feebb7582ca7df845efd52ffbc2960d6cbf4cfc972f47fded9f788b67f0b"
    webhook_timeout: float = 300.0  # seconds to wait for the webhook to accept the pool


@dataclass(frozen=True)
class RegistrySection:
    node_port: int = 30500
    storage: str = "10Gi"
    project: str = "our-task"  # the first path part of app images: <registry>/<project>/<app>

    def host(self, server: ServerSection) -> str:
        return f"{server.address}:{self.node_port}"


@dataclass(frozen=True)
class GiteaSection:
    ip: str = "192.168.1.201"  # fixed MetalLB address, in the pool
    http_port: int = 3000
    admin_user: str = "drone-kit-admin"
    admin_email: str = "admin@example.com"
    storage: str = "5Gi"

    def root_url(self) -> str:
        return f"http://{self.ip}:{self.http_port}/"


@dataclass(frozen=True)
class DroneSection:
    ip: str = "192.168.1.202"  # fixed MetalLB address, in the pool
    build_namespace: str = "drone-builds"
    runner_capacity: int = 2
    storage: str = "2Gi"


@dataclass(frozen=True)
class MonitoringSection:
    grafana_ip: str = "192.168.1.203"  # fixed MetalLB address, in the pool
    prometheus_retention: str = "5d"  # Prometheus's --storage.tsdb.retention.time
    prometheus_storage: str = "8Gi"
    scrape_interval: str = "30s"


@dataclass(frozen=True)
class ShimSection:
    storage: str = "1Gi"  # the outbox's volume
    retention: str = "7d"  # delivered hooks kept this long


@dataclass(frozen=True)
class ImagesSection:
    """Pinned, multi-arch (linux/amd64 + linux/arm64) upstream images; each overridable for a
    mirror or an air-gapped install. drone_kit's own images live in the platform registry."""

    registry: str = "registry:2.8.3"
    gitea: str = "gitea/gitea:1.22.6"
    drone: str = "drone/drone:2.26.0"
    drone_runner: str = "drone/drone-runner-kube:1.0.0-rc.5"
    prometheus: str = "prom/prometheus:v2.54.1"
    node_exporter: str = "prom/node-exporter:v1.8.2"
    grafana: str = "grafana/grafana:11.3.1"
    metallb_controller: str = ""  # "" = the image MetalLB's manifest names (quay.io/metallb/…)
    metallb_speaker: str = ""
    drone_kit: str = ""  # drone_kit's own images' repository prefix; "" = <registry>/drone-kit


@dataclass(frozen=True)
class TimeoutsSection:
    ready: float = 300.0  # seconds one component may take to become ready (Pi-sized)


@dataclass(frozen=True)
class PlatformConfig:
    server: ServerSection = field(default_factory=ServerSection)
    metallb: MetallbSection = field(default_factory=MetallbSection)
    registry: RegistrySection = field(default_factory=RegistrySection)
    gitea: GiteaSection = field(default_factory=GiteaSection)
    drone: DroneSection = field(default_factory=DroneSection)
    monitoring: MonitoringSection = field(default_factory=MonitoringSection)
    shim: ShimSection = field(default_factory=ShimSection)
    images: ImagesSection = field(default_factory=ImagesSection)
    timeouts: TimeoutsSection = field(default_factory=TimeoutsSection)

    @property
    def registry_host(self) -> str:
        return self.registry.host(self.server)

    def drone_kit_image(self, name: str, version: str) -> str:
        """One of drone_kit's own images (shim, build-push, deploy, verify) in the registry."""
        prefix = self.images.drone_kit or f"{self.registry_host}/drone-kit"
        return f"{prefix}/{name}:{version}"
