"""Prometheus, small enough for a Raspberry Pi: one Deployment scraping the API server, every
kubelet (its own metrics and cAdvisor's), annotated pods and services, and a node-exporter
DaemonSet on every node. Pure: everything here is computed from the `PlatformConfig`.

The kubelets are scraped directly on their port 10250 with the service account's token, not
through the API server's node proxy: on k3s the kubelet authenticates the token and asks the
API server whether it may read `nodes/metrics` (k3s starts every kubelet with
authentication-token-webhook and authorization-mode Webhook), so the ClusterRole below is all
it needs, and the scrapes stay off the API server of a server node that is itself a Pi. Whether
the service account's CA vouches for a kubelet's serving certificate depends on how the cluster
issued it (a kubeadm kubelet signs its own), hence `insecure_skip_verify`; the token still
authenticates Prometheus to the kubelet.
"""

from __future__ import annotations

import yaml

from drone_kit.platform.component import Component, HttpCheck, Workload
from drone_kit.platform.config import MONITORING_NAMESPACE, PlatformConfig
from drone_kit.platform.footprint import quantity
from drone_kit.platform.objects import (
    Obj,
    Resources,
    config_map,
    container,
    content_hash,
    deployment,
    env,
    http_probe,
    labels,
    metadata,
    namespace,
    selector,
    service,
    service_account,
    volume_claim,
)

NAME = "prometheus"
PORT = 9090
NODE_EXPORTER = "node-exporter"
NODE_EXPORTER_PORT = 9100
CONFIG_FILE = "prometheus.yml"
CONFIG_DIR = "/etc/prometheus"
DATA_DIR = "/prometheus"
HASH_ANNOTATION = "checksum/config"
NOBODY = 65534  # the user both upstream images run as
RESOURCES = Resources("100m", "192Mi", "1", "512Mi")
NODE_EXPORTER_RESOURCES = Resources("10m", "24Mi", "200m", "64Mi")
_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
# Histograms of the control plane: tens of thousands of series no dashboard here reads. k3s runs
# every control-plane part in one process, so its kubelets expose them a second time.
HEAVY_HISTOGRAMS = r"(apiserver|etcd|rest_client|workqueue|storage_operation|kubelet_runtime_operations)_.+_bucket"


def _drop(regex: str) -> Obj:
    return {"source_labels": ["__name__"], "regex": regex, "action": "drop"}


def _keep(label: str, regex: str) -> Obj:
    return {"source_labels": [label], "regex": regex, "action": "keep"}


def _copy(label: str, target: str) -> Obj:
    return {"source_labels": [label], "target_label": target, "action": "replace"}


def _kubelet_job(job: str, path: str, drops: list[Obj]) -> Obj:
    return {"job_name": job, "scheme": "https", "metrics_path": path,
            "authorization": {"credentials_file": _TOKEN}, "tls_config": {"insecure_skip_verify": True},
            "kubernetes_sd_configs": [{"role": "node"}], "metric_relabel_configs": drops}


def _annotated_job(job: str, role: str, kind: str) -> Obj:
    """Targets whose pod (or service) says `prometheus.io/scrape: "true"`, on the port and path
    its `prometheus.io/port` and `prometheus.io/path` annotations name."""
    meta = f"__meta_kubernetes_{kind}_annotation_prometheus_io"
    return {"job_name": job, "kubernetes_sd_configs": [{"role": role}], "relabel_configs": [
        _keep(f"{meta}_scrape", "true"),
        {"source_labels": [f"{meta}_path"], "regex": "(.+)", "target_label": "__metrics_path__"},
        {"source_labels": [f"{meta}_port", "__meta_kubernetes_pod_ip"], "regex": r"(\d+);(.*:.*)",
         "replacement": "[$2]:$1", "target_label": "__address__"},
        {"source_labels": [f"{meta}_port", "__meta_kubernetes_pod_ip"], "regex": r"(\d+);([^:]+)",
         "replacement": "$2:$1", "target_label": "__address__"},
        _copy("__meta_kubernetes_namespace", "namespace"), _copy("__meta_kubernetes_pod_name", "pod"),
        _copy("__meta_kubernetes_pod_node_name", "node")]}


def scrape_config(config: PlatformConfig) -> Obj:
    """Pure: prometheus.yml, as a dict."""
    interval = config.monitoring.scrape_interval
    return {"global": {"scrape_interval": interval, "evaluation_interval": interval}, "scrape_configs": [
        {"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PORT}"]}]},
        {"job_name": "kubernetes-apiservers", "scheme": "https", "authorization": {"credentials_file": _TOKEN},
         "tls_config": {"ca_file": _CA}, "kubernetes_sd_configs": [{"role": "endpointslice"}],
         "relabel_configs": [{"source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name",
                                                "__meta_kubernetes_endpointslice_port_name"],
                              "regex": "default;kubernetes;https", "action": "keep"}],
         "metric_relabel_configs": [_drop(HEAVY_HISTOGRAMS)]},
        _kubelet_job("kubernetes-nodes", "/metrics", [_drop(HEAVY_HISTOGRAMS)]),
        _kubelet_job("kubernetes-nodes-cadvisor", "/metrics/cadvisor", [
            _drop(r"container_(tasks_state|memory_failures_total|blkio_device_usage_total|cpu_load_average_10s|"
                  r"network_(tcp|udp)_usage_total|ulimits_soft|threads_max)")]),
        _annotated_job("kubernetes-pods", "pod", "pod"),
        _annotated_job("kubernetes-service-endpoints", "endpointslice", "service"),
        {"job_name": NODE_EXPORTER,
         "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [MONITORING_NAMESPACE]}}],
         "relabel_configs": [_keep("__meta_kubernetes_pod_label_app_kubernetes_io_name", NODE_EXPORTER),
                             _keep("__meta_kubernetes_pod_container_port_name", "metrics"),
                             _copy("__meta_kubernetes_pod_node_name", "instance")]},
    ]}


def rbac() -> list[Obj]:
    rules = [{"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
              "verbs": ["get", "list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
             {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME}
    subject = {"kind": "ServiceAccount", "name": NAME, "namespace": MONITORING_NAMESPACE}
    return [service_account(NAME, NAME, MONITORING_NAMESPACE),
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": metadata(NAME, NAME),
             "rules": rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": metadata(NAME, NAME), "roleRef": ref, "subjects": [subject]}]


def retention_size(storage: str) -> str:
    """Pure: 80% of the volume, in Prometheus's power-of-two MB: the oldest blocks go before the
    volume fills, whatever the retention time says."""
    return f"{int(quantity(storage) * 0.8 / 2**20)}MB"


def prometheus(config: PlatformConfig, settings: Obj) -> Obj:
    monitoring = config.monitoring
    # The Go runtime collects harder near this bound instead of growing into the OOM killer.
    memory_limit = f"{int(quantity(RESOURCES.memory_limit) * 0.9 / 2**20)}MiB"
    main = container(
        NAME, config.images.prometheus, RESOURCES, ports={"http": PORT},
        readiness=http_probe("/-/ready", PORT), liveness=http_probe("/-/healthy", PORT, failures=6),
        # Replaying the write-ahead log after a restart takes minutes on an SD card.
        startupProbe=http_probe("/-/healthy", PORT, failures=30),
        args=[f"--config.file={CONFIG_DIR}/{CONFIG_FILE}", f"--storage.tsdb.path={DATA_DIR}",
              f"--storage.tsdb.retention.time={monitoring.prometheus_retention}",
              f"--storage.tsdb.retention.size={retention_size(monitoring.prometheus_storage)}"],
        env=[env("GOMEMLIMIT", memory_limit)],
        volumeMounts=[{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                      {"name": "data", "mountPath": DATA_DIR}])
    pod = {"serviceAccountName": NAME, "containers": [main],
           "securityContext": {"runAsUser": NOBODY, "runAsGroup": NOBODY, "fsGroup": NOBODY, "runAsNonRoot": True},
           "volumes": [{"name": "config", "configMap": {"name": NAME}},
                       {"name": "data", "persistentVolumeClaim": {"claimName": NAME}}]}
    # A changed prometheus.yml rolls the pod; an unchanged one leaves the Deployment as it is.
    return deployment(NAME, NAME, MONITORING_NAMESPACE, pod, recreate=True,
                      pod_annotations={HASH_ANNOTATION: content_hash(settings["data"])})


def node_exporter(config: PlatformConfig) -> Obj:
    host = {"proc": "/proc", "sys": "/sys", "root": "/"}
    main = container(
        NODE_EXPORTER, config.images.node_exporter, NODE_EXPORTER_RESOURCES, ports={"metrics": NODE_EXPORTER_PORT},
        readiness=http_probe("/metrics", NODE_EXPORTER_PORT, period=30),
        args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root",
              f"--web.listen-address=:{NODE_EXPORTER_PORT}"],
        # No mountPropagation: HostToContainer: it needs / to be a shared mount, which not every host
        # has (the container then never starts); a disk mounted later is seen after a restart.
        volumeMounts=[{"name": name, "mountPath": f"/host/{name}", "readOnly": True} for name in host])
    # The host's network and processes are what it measures; every node, the tainted server too.
    pod = {"hostNetwork": True, "hostPID": True, "automountServiceAccountToken": False,
           "securityContext": {"runAsUser": NOBODY, "runAsGroup": NOBODY, "runAsNonRoot": True},
           "tolerations": [{"operator": "Exists"}], "containers": [main],
           "volumes": [{"name": name, "hostPath": {"path": path}} for name, path in host.items()]}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": metadata(NAME, NODE_EXPORTER, MONITORING_NAMESPACE),
            "spec": {"selector": {"matchLabels": selector(NODE_EXPORTER)},
                     "template": {"metadata": {"labels": labels(NAME, NODE_EXPORTER)}, "spec": pod}}}


def render(config: PlatformConfig) -> list[Obj]:
    """Pure: the monitoring Namespace, Prometheus's access, configuration, volume, workloads and Service."""
    settings = config_map(NAME, NAME, MONITORING_NAMESPACE,
                          {CONFIG_FILE: yaml.safe_dump(scrape_config(config), sort_keys=False)})
    return [namespace(NAME, MONITORING_NAMESPACE), *rbac(), settings,
            volume_claim(NAME, NAME, MONITORING_NAMESPACE, config.monitoring.prometheus_storage,
                         config.server.storage_class),
            prometheus(config, settings), service(NAME, NAME, MONITORING_NAMESPACE, {"http": (PORT, PORT)}),
            node_exporter(config)]


COMPONENT = Component(
    name=NAME,
    summary="Prometheus: kubelets, cAdvisor, annotated pods and services, node-exporter on every node",
    render=render,
    workloads=lambda config: [Workload("Deployment", MONITORING_NAMESPACE, NAME),
                              Workload("DaemonSet", MONITORING_NAMESPACE, NODE_EXPORTER)],
    checks=lambda config: [HttpCheck(MONITORING_NAMESPACE, NAME, PORT, "/-/ready")],
    url=lambda config: f"http://{NAME}.{MONITORING_NAMESPACE}.svc:{PORT}",  # in-cluster: Grafana's datasource
)
