"""The cluster dashboard: each node's CPU, memory, disk and network from node-exporter (its
`instance` is the node's name), each pod's CPU and memory from the kubelets' cAdvisor, and which
scrape targets are down. Pure."""

from __future__ import annotations

from drone_kit.platform.dashboards.panels import dashboard as build
from drone_kit.platform.dashboards.panels import stat, timeseries, variable
from drone_kit.platform.objects import Obj

UID = "drone-kit-cluster"
NODE = 'instance=~"$node"'
DISKS = f'{NODE}, fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs"'
INTERFACES = f'{NODE}, device!~"lo|veth.*|cni.*|flannel.*"'
CONTAINERS = 'container!="", namespace=~"$namespace"'  # "" is the pod's own cgroup: counted twice

CPU = f'1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle", {NODE}}}[$__rate_interval]))'
MEMORY = f"1 - node_memory_MemAvailable_bytes{{{NODE}}} / node_memory_MemTotal_bytes{{{NODE}}}"
DISK = f"1 - node_filesystem_avail_bytes{{{DISKS}}} / node_filesystem_size_bytes{{{DISKS}}}"


def dashboard() -> Obj:
    """Pure: the dashboard's JSON model."""
    return build(UID, "Cluster: nodes and pods", "The nodes (node-exporter) and the pods (cAdvisor) of the cluster", [
        (4, [stat("Nodes reporting", 'count(up{job="node-exporter"} == 1)'),
             stat("Busiest node CPU", f"max({CPU})", "percentunit", red_at=0.9),
             stat("Fullest node memory", f"max({MEMORY})", "percentunit", red_at=0.9),
             stat("Fullest disk", f"max({DISK})", "percentunit", red_at=0.85),
             stat("Scrape targets down", "count(up == 0) or vector(0)", red_at=1,
                  description="An empty dashboard starts here: Prometheus's Status > Targets says why")]),
        (8, [timeseries("Node CPU used", [(CPU, "{{instance}}")], "percentunit"),
             timeseries("Node memory used", [(MEMORY, "{{instance}}")], "percentunit")]),
        (8, [timeseries("Disk used", [(DISK, "{{instance}} {{mountpoint}}")], "percentunit"),
             timeseries("Network", [
                 (f"sum by (instance) (rate(node_network_receive_bytes_total{{{INTERFACES}}}[$__rate_interval]))",
                  "{{instance}} in"),
                 (f"sum by (instance) (rate(node_network_transmit_bytes_total{{{INTERFACES}}}[$__rate_interval]))",
                  "{{instance}} out")], "Bps"),
             timeseries("Load (1 min)", [(f"node_load1{{{NODE}}}", "{{instance}}")])]),
        (9, [timeseries("Pod CPU", [(
                 f"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[$__rate_interval]))",
                 "{{namespace}}/{{pod}}")], "short", "CPU cores in use"),
             timeseries("Pod memory (working set)", [(
                 f"sum by (namespace, pod) (container_memory_working_set_bytes{{{CONTAINERS}}})",
                 "{{namespace}}/{{pod}}")], "bytes", "What the kernel counts against the pod's memory limit")]),
    ], [variable("node", "Node", "label_values(node_uname_info, instance)"),
        variable("namespace", "Namespace", "label_values(container_memory_working_set_bytes, namespace)")])
