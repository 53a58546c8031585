"""Prometheus, node-exporter and Grafana as rendered: the scrape configuration (checked by
promtool, and its relabelling run on sample targets), access rules, containers, the config hash
that rolls a pod, the provisioned datasource, and dashboards whose every query names a metric
that exists (the shim's taken from its own registry) and the datasource Grafana provisions."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from drone_kit.platform import footprint, phases
from drone_kit.platform.components import grafana, prometheus
from drone_kit.platform.config import MONITORING_NAMESPACE, PlatformConfig
from drone_kit.platform.dashboards import DEPLOY_TAG
from drone_kit.shim.drone_events import BuildFacts, deploy_annotation
from drone_kit.shim.metrics import ShimMetrics
from tests.stack.require import require_binary

CONFIG = PlatformConfig()
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
# Upstream names the dashboards use, checked against node-exporter 1.5's /metrics and cAdvisor's
# metric list (container_cpu_usage_seconds_total, container_memory_working_set_bytes).
NODE_EXPORTER_METRICS = {"node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
                         "node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_load1",
                         "node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_uname_info"}
CADVISOR_METRICS = {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"}
PROMETHEUS_METRICS = {"up"}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
                   "unless"}


def rendered(config: PlatformConfig = CONFIG) -> list[dict]:
    return prometheus.COMPONENT.render(config) + grafana.COMPONENT.render(config)


def find(objects: list[dict], kind: str, name: str) -> dict:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def scrape_config(config: PlatformConfig = CONFIG) -> dict:
    return yaml.safe_load(find(rendered(config), "ConfigMap", "prometheus")["data"]["prometheus.yml"])


def job(name: str) -> dict:
    [found] = [j for j in scrape_config()["scrape_configs"] if j["job_name"] == name]
    return found


def relabel(labels: dict[str, str], rules: list[dict]) -> dict[str, str] | None:
    """Prometheus's relabelling (keep, drop, replace; anchored regexes): the target's labels, or
    None when it is dropped."""
    labels = dict(labels)
    for rule in rules:
        value = rule.get("separator", ";").join(labels.get(name, "") for name in rule.get("source_labels", []))
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        action = rule.get("action", "replace")
        if (action == "keep" and not match) or (action == "drop" and match):
            return None
        if action == "replace" and match:
            labels[rule["target_label"]] = match.expand(re.sub(r"\$(\d+)", r"\\g<\1>", rule.get("replacement", "$1")))
    return labels


def dashboards(objects: list[dict] | None = None) -> list[dict]:
    maps = [o for o in objects or rendered() if o["kind"] == "ConfigMap"
            and o["metadata"]["name"].startswith("grafana-dashboard-") and o["metadata"]["name"] != grafana.PROVIDERS]
    return [json.loads(text) for m in maps for text in m["data"].values()]


def expressions(board: dict) -> list[str]:
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions, keywords,
    label names, strings, durations or grouping labels."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return {m.group() for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr)
            if m.group() not in PROMQL_KEYWORDS and not expr[m.end():].lstrip().startswith("(")}


def variable_metrics(board: dict) -> set[str]:
    found = [re.fullmatch(r"label_values\((\w+), *\w+\)", v["query"]) for v in board["templating"]["list"]]
    assert all(found), board["templating"]["list"]
    return {match.group(1) for match in found if match}


def shim_metric_names() -> set[str]:
    """What the shim exposes, from its registry: a counter as <name>_total, a histogram as its
    _bucket, _sum and _count series."""
    suffixes = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
    return {family.name + suffix for family in ShimMetrics().registry.collect() for suffix in suffixes[family.type]}


def test_the_metric_name_reader_skips_functions_labels_strings_and_ranges():
    assert metric_names('histogram_quantile(0.5, sum by (le, repo) (rate(a_bucket{repo=~"$repo"}[1d])))') == \
        {"a_bucket"}
    assert metric_names("1 - x{m=\"idle\"} / y or vector(0)") == {"x", "y"}


def test_the_scrape_configuration_has_every_job_at_the_configured_interval():
    config = dataclasses.replace(CONFIG, monitoring=dataclasses.replace(CONFIG.monitoring, scrape_interval="15s"))
    parsed = scrape_config(config)
    assert parsed["global"]["scrape_interval"] == "15s"
    assert {j["job_name"] for j in parsed["scrape_configs"]} >= {
        "kubernetes-apiservers", "kubernetes-nodes", "kubernetes-nodes-cadvisor", "kubernetes-pods",
        "kubernetes-service-endpoints", "node-exporter"}


def test_promtool_accepts_the_scrape_configuration(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "prometheus")
    # Debian builds Prometheus without Kubernetes discovery, so its promtool checks all but the
    # discovery blocks; the files the jobs name must exist for it, so they point at stand-ins.
    text = find(rendered(), "ConfigMap", "prometheus")["data"]["prometheus.yml"]
    for path in set(re.findall(r"/var/run/secrets/kubernetes.io/serviceaccount/[a-z.]+", text)):
        (tmp_path / Path(path).name).write_text("x\n")
        text = text.replace(path, str(tmp_path / Path(path).name))
    parsed = yaml.safe_load(text)
    for scrape in parsed["scrape_configs"]:
        if scrape.pop("kubernetes_sd_configs", None) is not None:
            scrape["static_configs"] = [{"targets": ["127.0.0.1:9"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(parsed))
    result = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubelets_are_scraped_directly_with_the_service_account_token():
    for name, path in (("kubernetes-nodes", "/metrics"), ("kubernetes-nodes-cadvisor", "/metrics/cadvisor")):
        scrape = job(name)
        assert (scrape["scheme"], scrape["metrics_path"]) == ("https", path)
        assert scrape["authorization"]["credentials_file"] == TOKEN
        assert scrape["tls_config"]["insecure_skip_verify"] is True
        assert scrape["kubernetes_sd_configs"] == [{"role": "node"}]
    apiservers = job("kubernetes-apiservers")
    kept = {"__meta_kubernetes_namespace": "default", "__meta_kubernetes_service_name": "kubernetes",
            "__meta_kubernetes_endpointslice_port_name": "https"}
    assert relabel(kept, apiservers["relabel_configs"]) is not None
    assert relabel({**kept, "__meta_kubernetes_service_name": "gitea"}, apiservers["relabel_configs"]) is None
    spec = pod_spec(find(rendered(), "Deployment", "prometheus"))
    assert spec["serviceAccountName"] == "prometheus" and spec.get("automountServiceAccountToken") is not False


@pytest.mark.parametrize("name, kind", [("kubernetes-pods", "pod"), ("kubernetes-service-endpoints", "service")])
def test_annotations_choose_the_targets_their_port_and_path(name: str, kind: str) -> None:
    rules, meta = job(name)["relabel_configs"], f"__meta_kubernetes_{kind}_annotation_prometheus_io"
    target = {"__address__": "10.42.0.7:8080", "__metrics_path__": "/metrics", "__meta_kubernetes_pod_ip": "10.42.0.7",
              "__meta_kubernetes_namespace": "drone-kit", "__meta_kubernetes_pod_name": "shim-1",
              f"{meta}_scrape": "true", f"{meta}_port": "9000", f"{meta}_path": "/stats"}
    labels = relabel(target, rules)
    assert labels is not None
    assert (labels["__address__"], labels["__metrics_path__"]) == ("10.42.0.7:9000", "/stats")
    assert (labels["namespace"], labels["pod"]) == ("drone-kit", "shim-1")
    ipv6 = relabel({**target, "__address__": "[fd00::7]:8080", "__meta_kubernetes_pod_ip": "fd00::7"}, rules)
    assert ipv6 is not None and ipv6["__address__"] == "[fd00::7]:9000"
    plain = relabel({k: v for k, v in target.items() if not k.endswith(("_port", "_path"))}, rules)
    assert plain is not None and (plain["__address__"], plain["__metrics_path__"]) == ("10.42.0.7:8080", "/metrics")
    assert relabel({**target, f"{meta}_scrape": "false"}, rules) is None
    assert relabel({k: v for k, v in target.items() if not k.endswith("_scrape")}, rules) is None


def test_node_exporter_pods_are_scraped_by_their_node_name():
    daemon = find(rendered(), "DaemonSet", "node-exporter")
    pod_labels = {f"__meta_kubernetes_pod_label_{key.replace('.', '_').replace('/', '_')}": value
                  for key, value in daemon["spec"]["template"]["metadata"]["labels"].items()}
    [port] = pod_spec(daemon)["containers"][0]["ports"]
    target = {**pod_labels, "__address__": f"192.168.1.70:{port['containerPort']}",
              "__meta_kubernetes_pod_container_port_name": port["name"], "__meta_kubernetes_pod_node_name": "pi-1"}
    labels = relabel(target, job("node-exporter")["relabel_configs"])
    assert labels is not None and labels["instance"] == "pi-1" and port["containerPort"] == 9100
    assert relabel({**target, "__meta_kubernetes_pod_label_app_kubernetes_io_name": "grafana"},
                   job("node-exporter")["relabel_configs"]) is None


def test_node_exporter_reads_the_host_read_only_on_every_node():
    spec = pod_spec(find(rendered(), "DaemonSet", "node-exporter"))
    assert spec["hostNetwork"] and spec["hostPID"]
    assert {"operator": "Exists"} in spec["tolerations"]
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    hosts = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
    assert sorted(hosts.values()) == ["/", "/proc", "/sys"]
    assert all(mount["readOnly"] for mount in mounts.values())
    args = spec["containers"][0]["args"]
    for name, path in hosts.items():
        flag = {"/proc": "procfs", "/sys": "sysfs", "/": "rootfs"}[path]
        assert f"--path.{flag}={mounts[name]['mountPath']}" in args


def test_prometheus_may_read_what_it_discovers_and_nothing_more():
    objects = rendered()
    role = find(objects, "ClusterRole", "prometheus")
    granted = {(group, resource, verb) for rule in role["rules"] if "resources" in rule
               for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]}
    reads = {"get", "list", "watch"}
    assert granted == {("", r, v) for r in ("nodes", "nodes/metrics", "services", "endpoints", "pods") for v in reads} \
        | {("discovery.k8s.io", "endpointslices", v) for v in reads}
    assert {"nonResourceURLs": ["/metrics"], "verbs": ["get"]} in role["rules"]
    binding = find(objects, "ClusterRoleBinding", "prometheus")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus", "namespace": MONITORING_NAMESPACE}]
    find(objects, "ServiceAccount", "prometheus")


def test_every_container_is_sized_probed_and_pinned_to_the_configured_image():
    images = dataclasses.replace(CONFIG.images, prometheus="mirror/prometheus:1", node_exporter="mirror/ne:2",
                                 grafana="mirror/grafana:3")
    objects = rendered(dataclasses.replace(CONFIG, images=images))
    workloads = [o for o in objects if o["kind"] in ("Deployment", "DaemonSet")]
    assert {c["image"] for w in workloads for c in pod_spec(w)["containers"]} == \
        {"mirror/prometheus:1", "mirror/ne:2", "mirror/grafana:3"}
    for workload in rendered():
        if workload["kind"] not in ("Deployment", "DaemonSet"):
            continue
        for c in pod_spec(workload)["containers"]:
            assert not c["image"].endswith(":latest") and ":" in c["image"]
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}, c["name"]
            assert footprint.quantity(c["resources"]["requests"]["memory"]) <= \
                footprint.quantity(c["resources"]["limits"]["memory"])
            assert c["readinessProbe"]["httpGet"]["path"] and c["livenessProbe"]["httpGet"]["path"]


def test_monitoring_asks_for_at_most_400_mebibytes():
    assert footprint.of_objects(rendered()).memory_request <= 400 * 2**20


def test_prometheus_keeps_the_configured_retention_on_its_volume():
    objects = rendered()
    args = pod_spec(find(objects, "Deployment", "prometheus"))["containers"][0]["args"]
    assert f"--storage.tsdb.retention.time={CONFIG.monitoring.prometheus_retention}" in args
    assert "--storage.tsdb.retention.size=6553MB" in args  # 80% of 8Gi
    assert not any("enable-lifecycle" in arg for arg in args)  # a changed config rolls the pod instead
    claim = find(objects, "PersistentVolumeClaim", "prometheus")
    assert claim["spec"]["resources"]["requests"]["storage"] == CONFIG.monitoring.prometheus_storage
    assert find(objects, "Deployment", "prometheus")["spec"]["strategy"]["type"] == "Recreate"


def config_hash(config: PlatformConfig, name: str) -> str:
    deployment = find(rendered(config), "Deployment", name)
    return deployment["spec"]["template"]["metadata"]["annotations"][prometheus.HASH_ANNOTATION]


def test_the_config_hash_changes_exactly_when_the_configuration_changes():
    def monitoring(**changes: str) -> PlatformConfig:
        return dataclasses.replace(CONFIG, monitoring=dataclasses.replace(CONFIG.monitoring, **changes))

    assert config_hash(CONFIG, "prometheus") == config_hash(PlatformConfig(), "prometheus")
    assert config_hash(monitoring(scrape_interval="15s"), "prometheus") != config_hash(CONFIG, "prometheus")
    # Flags are in the pod spec already: changing them rolls the pod without the hash.
    assert config_hash(monitoring(prometheus_retention="3d"), "prometheus") == config_hash(CONFIG, "prometheus")
    assert config_hash(monitoring(grafana_ip="192.168.1.209"), "grafana") == config_hash(CONFIG, "grafana")
    assert rendered() == rendered()  # so a re-run applies byte-identical objects


def test_the_datasource_has_a_fixed_uid_and_points_at_the_prometheus_service():
    objects = rendered()
    [source] = yaml.safe_load(find(objects, "ConfigMap", grafana.DATASOURCES)["data"]["prometheus.yaml"])["datasources"]
    assert {k: source[k] for k in ("name", "type", "uid", "isDefault", "editable")} == \
        {"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "isDefault": True, "editable": False}
    service = find(objects, "Service", "prometheus")
    assert source["url"] == "http://prometheus.monitoring.svc:9090" == \
        f"http://{service['metadata']['name']}.{service['metadata']['namespace']}.svc:{service['spec']['ports'][0]['port']}"


def test_every_dashboard_query_uses_the_provisioned_datasource():
    objects = rendered()
    [source] = yaml.safe_load(find(objects, "ConfigMap", grafana.DATASOURCES)["data"]["prometheus.yaml"])["datasources"]
    expected = {"type": source["type"], "uid": source["uid"]}
    boards = dashboards(objects)
    assert len(boards) == 2 and len({b["uid"] for b in boards}) == 2
    for board in boards:
        assert board["panels"]
        for panel in board["panels"]:
            assert panel["datasource"] == expected, panel["title"]
            assert panel["targets"] and all(t["datasource"] == expected for t in panel["targets"])
        assert all(v["datasource"] == expected for v in board["templating"]["list"])
    assert "${DS_" not in json.dumps(objects) and "__inputs" not in json.dumps(objects)


def test_panels_fit_the_grid_without_overlapping():
    for board in dashboards():
        cells: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24
            cell = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
            assert not cells & cell, panel["title"]
            cells |= cell
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


def test_every_query_reads_metrics_that_exist_and_are_kept():
    shim = shim_metric_names()
    assert "drone_kit_shim_hooks_received_total" in shim and "drone_kit_shim_outbox_depth" in shim
    known = shim | NODE_EXPORTER_METRICS | CADVISOR_METRICS | PROMETHEUS_METRICS
    read = set()
    for board in dashboards():
        for expr in expressions(board):
            assert metric_names(expr) <= known, expr
            read |= metric_names(expr)
        read |= variable_metrics(board)
    assert read <= known
    assert {"drone_kit_shim_hooks_delivered_total", "drone_kit_shim_hooks_failed_total",
            "drone_kit_shim_hooks_ignored_total", "drone_kit_shim_hooks_retried_total",
            "drone_kit_shim_outbox_failed", "drone_kit_shim_outbox_oldest_age_seconds"} <= read
    jobs = {scrape["job_name"] for scrape in scrape_config()["scrape_configs"]}
    assert {j for board in dashboards() for e in expressions(board) for j in re.findall(r'job="([^"]+)"', e)} <= jobs
    drops = [rule for scrape in scrape_config()["scrape_configs"] for rule in scrape.get("metric_relabel_configs", [])]
    for name in read:
        assert relabel({"__name__": name}, drops) is not None, f"{name} is dropped at scrape time"


def test_promtool_parses_every_query(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "prometheus")
    rules = [{"record": f"dashboard:query_{index}", "expr": expr.replace("$__rate_interval", "5m")}
             for index, expr in enumerate(e for board in dashboards() for e in expressions(board))]
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploys_the_shim_annotates_show_on_every_dashboard():
    facts = BuildFacts(repo="our-task/nginx-demo", number=7, status="success", branch="main", commit="0123456789ab",
                       link="http://drone/7", duration=30.0, finished=1700000000.0, commit_time=None, deploy=True)
    posted = set(deploy_annotation(facts)["tags"])
    assert DEPLOY_TAG in posted
    for board in dashboards():
        [deploys] = [a for a in board["annotations"]["list"] if a.get("target", {}).get("type") == "tags"]
        assert deploys["enable"] and deploys["datasource"]["type"] == "grafana"
        # matchAny false: an annotation shows when it has every one of these tags.
        assert deploys["target"]["matchAny"] is False and set(deploys["target"]["tags"]) <= posted


def test_grafana_finds_its_provisioning_and_dashboards_where_they_are_mounted():
    objects = rendered()
    spec = pod_spec(find(objects, "Deployment", "grafana"))
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    [provider] = yaml.safe_load(find(objects, "ConfigMap", grafana.PROVIDERS)["data"]["drone-kit.yaml"])["providers"]
    projected = volumes[mounts[provider["options"]["path"]]]["projected"]["sources"]
    maps = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("grafana-dashboard-d")]
    assert sorted(s["configMap"]["name"] for s in projected) == sorted(m["metadata"]["name"] for m in maps)
    assert all(len(json.dumps(m["data"])) < 2**20 for m in maps)
    assert volumes[mounts["/etc/grafana/provisioning/datasources"]]["configMap"]["name"] == grafana.DATASOURCES
    assert volumes[mounts["/etc/grafana/provisioning/dashboards"]]["configMap"]["name"] == grafana.PROVIDERS
    assert volumes[mounts["/var/lib/grafana"]]["persistentVolumeClaim"]["claimName"] == "grafana"
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.removeprefix(provider["options"]["path"] + "/") in {k for m in maps for k in m["data"]}


def test_grafanas_credentials_come_from_its_generated_secret():
    [secret] = grafana.COMPONENT.secrets(CONFIG)
    keys = set(secret.keys) | {key for key, _ in secret.fixed}
    env = {e["name"]: e for e in pod_spec(find(rendered(), "Deployment", "grafana"))["containers"][0]["env"]}
    for name in ("GF_SECURITY_ADMIN_USER", "GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_SECRET_KEY"):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert "value" not in env[name] and ref["name"] == secret.name and ref["key"] in keys
    assert secret.namespace == MONITORING_NAMESPACE and "admin-password" in secret.keys


def test_grafana_answers_on_its_fixed_address_and_both_are_checked_for_readiness():
    objects = rendered()
    service = find(objects, "Service", "grafana")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"]["metallb.io/loadBalancerIPs"] == CONFIG.monitoring.grafana_ip
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, 3000)]
    assert grafana.COMPONENT.url(CONFIG) == "http://192.168.1.203/"
    checks = {c.path: c for c in grafana.COMPONENT.checks(CONFIG) + prometheus.COMPONENT.checks(CONFIG)}
    assert set(checks) == {"/api/health", "/-/ready"}
    for check in checks.values():
        target = find(objects, "Service", check.service)
        assert check.namespace == target["metadata"]["namespace"]
        assert check.port in [p["port"] for p in target["spec"]["ports"]]
    workloads = prometheus.COMPONENT.workloads(CONFIG) + grafana.COMPONENT.workloads(CONFIG)
    for workload in workloads:
        assert find(objects, workload.kind, workload.name)["metadata"]["namespace"] == workload.namespace


def test_each_object_is_rendered_once_into_the_monitoring_namespace():
    objects = rendered()
    assert phases.duplicates(objects) == []
    assert find(objects, "Namespace", MONITORING_NAMESPACE) in prometheus.COMPONENT.render(CONFIG)
    cluster_wide = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    assert all(o["metadata"]["namespace"] == MONITORING_NAMESPACE for o in objects if o["kind"] not in cluster_wide)
    assert grafana.COMPONENT.depends_on == ("prometheus",)
