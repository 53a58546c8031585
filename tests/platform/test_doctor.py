"""`doctor` on hand-written API objects: a healthy platform finds nothing; each of platform.md
§9's ten breakages, put into it one at a time, is diagnosed by its own check, with the fix."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from drone_kit.platform.component import GeneratedSecret
from drone_kit.platform.components import drone_server, gitea, grafana
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.doctor import diagnose
from drone_kit.platform.doctor_view import ClusterView, worth_a_log
from drone_kit.platform.findings import FAILED, OK, WARNING, Finding
from drone_kit.platform.objects import labels
from tests.paths import FIXTURES

CONFIG = PlatformConfig()
SECRETS = [GeneratedSecret("gitea", "gitea-secrets", ("secret-key", "internal-token")),
           GeneratedSecret("drone", "drone-secrets", ("rpc-secret",))]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def meta(name: str, namespace: str = "", **extra) -> dict:
    return {"name": name, **({"namespace": namespace} if namespace else {}), **extra}


def node(name: str, arch: str = "arm64", address: str = "192.168.1.70", control_plane: bool = True) -> dict:
    return {"kind": "Node", "metadata": meta(name, labels={"kubernetes.io/arch": arch, **(
                {"node-role.kubernetes.io/control-plane": "true"} if control_plane else {})}),
            "status": {"nodeInfo": {"architecture": arch}, "capacity": {"memory": "3880000Ki"},
                       "addresses": [{"type": "InternalIP", "address": address}],
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}


def deployment(name: str, namespace: str, env: list[dict], image: str) -> dict:
    return {"kind": "Deployment", "metadata": meta(name, namespace, labels=labels(name, name)),
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": image, "env": env}]}}}}


def lb_service(name: str, namespace: str, ip: str, ours: bool = True) -> dict:
    return {"kind": "Service", "metadata": meta(name, namespace, labels=labels(name, name) if ours else {}),
            "spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}}


def pod(name: str, namespace: str, node_name: str = "pi-server", image: str = "busybox:1.36.1",
        status: dict | None = None, **extra_meta) -> dict:
    return {"kind": "Pod", "metadata": meta(name, namespace, **extra_meta),
            "spec": {"nodeName": node_name, "containers": [{"name": "main", "image": image,
                                                              "resources": {"limits": {"memory": "256Mi"}}}]},
            "status": status or {"phase": "Running", "containerStatuses": [
                {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}]}}


def healthy() -> ClusterView:
    return ClusterView(
        nodes=[node("pi-server"), node("nuc", "amd64", "192.168.1.71", control_plane=False)],
        pods=[pod("controller-7d9f", "metallb-system", labels={"component": "controller"}),
              pod("prometheus-5c4b", "monitoring")],
        services=[lb_service("gitea", "gitea", "192.168.1.201"), lb_service("drone", "drone", "192.168.1.202"),
                  lb_service("grafana", "monitoring", "192.168.1.203"),
                  lb_service("my-app", "apps", "192.168.1.209", ours=False)],
        endpoints=[{"kind": "Endpoints", "metadata": meta("metallb-webhook-service", "metallb-system"),
                    "subsets": [{"addresses": [{"ip": "10.42.0.7"}], "ports": [{"port": 9443}]}]}],
        deployments=[
            deployment("gitea", "gitea", [{"name": "GITEA__database__DB_TYPE", "value": "sqlite3"},
                                          {"name": "GITEA__server__ROOT_URL", "value": "http://192.168.1.201:3000/"},
                                          {"name": "GITEA__webhook__ALLOWED_HOST_LIST", "value": "private"}],
                       "gitea/gitea:1.22.6"),
            deployment("drone", "drone", [{"name": "DRONE_SERVER_HOST", "valueFrom": {"secretKeyRef": {
                "name": "drone-env", "key": "host"}}}, {"name": "DRONE_GITEA_SERVER", "value": "http://192.168.1.201:3000"}],
                       "drone/drone:2.26.0")],
        jobs=[{"kind": "Job", "metadata": meta("gitea-admin", "gitea"), "status": {"succeeded": 1}}],
        secrets=[{"kind": "Secret", "metadata": meta("metallb-webhook-cert", "metallb-system"),
                  "data": {"ca.crt": b64("ca"), "tls.crt": b64("crt"), "tls.key": b64("key")}},
                 {"kind": "Secret", "metadata": meta("drone-env", "drone"), "data": {"host": b64("192.168.1.202")}},
                 {"kind": "Secret", "metadata": meta("gitea-secrets", "gitea"),
                  "data": {"secret-key": b64("s"), "internal-token": b64("t")}},
                 {"kind": "Secret", "metadata": meta("drone-secrets", "drone"), "data": {"rpc-secret": b64("r")}}],
        config_maps=[{"kind": "ConfigMap", "metadata": meta("dashboard-nodes", "monitoring"),
                      "data": {"nodes.json": json.dumps({"panels": [{"datasource": {"uid": "prometheus"}}]})}}],
        webhooks=[{"kind": "ValidatingWebhookConfiguration", "metadata": meta("metallb-webhook-configuration"),
                   "webhooks": [{"name": "ipaddresspoolvalidationwebhook.metallb.io",
                                 "clientConfig": {"caBundle": b64("ca")}}]}],
        pools=[{"kind": "IPAddressPool", "metadata": meta("homelab-pool", "metallb-system"),
                "spec": {"addresses": ["192.168.1.200-192.168.1.210"]}}],
        advertisements=[{"kind": "L2Advertisement", "metadata": meta("homelab-l2", "metallb-system"),
                         "spec": {"ipAddressPools": ["homelab-pool"]}}])


def problems_of(view: ClusterView) -> list[Finding]:
    return [f for f in diagnose(view, CONFIG, SECRETS) if f.status != OK]


def only(view: ClusterView, check: str, status: str = FAILED) -> Finding:
    """The one finding that is not OK, which must be `check`'s."""
    found = problems_of(view)
    assert [(f.check, f.status) for f in found] == [(check, status)], found
    return found[0]


def test_a_healthy_platform_passes_all_ten_checks():
    findings = diagnose(healthy(), CONFIG, SECRETS)
    assert all(f.status == OK for f in findings), [f for f in findings if f.status != OK]
    assert [f.check for f in findings] == [
        "https pulls", "metallb", "servicelb", "gitea webhooks", "urls", "gitea admin", "architecture",
        "metallb certificate", "secrets", "monitoring", "pi basics"]


def test_1_pulls_over_https_from_the_recorded_kubelet_events():
    view = healthy()
    rows = [json.loads(line) for line in (FIXTURES / "k8s-rollouts" / "registry-http-vs-https.jsonl").read_text()
            .splitlines()]
    view.events = [r["object"] for r in rows if r["kind"] == "Event"]
    assert problems_of(view) == []  # events outlive their pods: those of a deleted pod are history
    view.pods.append(pod("web-7bf744779f-m7zvz", "demo", node_name="nuc"))
    found = only(view, "https pulls")
    assert found.message.startswith("nuc pulls from 10.231.0.2:5000 over HTTPS") and "demo/web-7bf744779f-m7zvz" in \
        found.message
    assert "        - \"http://10.231.0.2:5000\"" in found.fix and "then: sudo systemctl restart k3s-agent" in found.fix
    assert "containerd.log" in found.fix[-1]


def test_2_metallb_webhook_not_serving_and_pool_missing():
    view = healthy()
    view.endpoints[0]["subsets"] = [{"notReadyAddresses": [{"ip": "10.42.0.7"}]}]
    view.pods[0]["status"] = {"phase": "Running", "containerStatuses": [
        {"name": "main", "ready": False, "restartCount": 0, "state": {"running": {}}}]}
    found = only(view, "metallb")
    assert "no ready endpoint" in found.message and "controller-7d9f: running" in found.fix[0]
    view = healthy()
    view.pools = []
    assert "IPAddressPool homelab-pool is missing" in only(view, "metallb").message
    view = healthy()
    view.advertisements = []
    assert "no L2Advertisement" in only(view, "metallb").message
    view = healthy()
    view.pools = view.advertisements = None
    assert [f.message for f in problems_of(view)] == ["MetalLB is not installed (the API serves no IPAddressPool)"]


def test_3_servicelb_on_or_traefik_on_a_platform_address():
    view = healthy()
    view.pods.append(pod("svclb-traefik-x1-abcde", "kube-system",
                         labels={"svccontroller.k3s.cattle.io/svcname": "traefik"},
                         ownerReferences=[{"kind": "DaemonSet", "name": "svclb-traefik-x1"}]))
    assert "  kubectl -n kube-system delete daemonset svclb-traefik-x1" in only(view, "servicelb").fix
    view = healthy()
    view.services[0]["status"]["loadBalancer"] = {}
    view.services.append(lb_service("traefik", "kube-system", "192.168.1.201", ours=False))
    found = [f for f in problems_of(view)]
    assert [(f.check, f.status) for f in found] == [("load balancers", FAILED), ("urls", WARNING)]
    assert found[0].message == "Service kube-system/traefik holds 192.168.1.201, the platform's gitea.ip"
    view = healthy()
    view.services.append(lb_service("traefik", "kube-system", "192.168.1.200", ours=False))
    assert "disable:" in only(view, "load balancers", WARNING).fix[0]


def test_4_gitea_without_allowed_host_list():
    view = healthy()
    env = view.deployments[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    del env[2]
    found = only(view, "gitea webhooks")
    assert "(external) refuses" in found.message and "GITEA__security__ALLOWED_HOST_LIST=private" in found.fix[0]
    env.append({"name": "GITEA__WEBHOOK__ALLOWED_HOST_LIST", "value": "external,loopback"})
    assert "does not allow Drone at 192.168.1.202" in only(view, "gitea webhooks").message
    env[-1]["value"] = "external,192.168.1.0/24"
    assert problems_of(view) == []
    # later Gitea reads [security] first: a refusal there is what counts
    env.append({"name": "GITEA__security__ALLOWED_HOST_LIST", "value": "external"})
    assert "'external' does not allow Drone at 192.168.1.202" in only(view, "gitea webhooks").message


def test_5_root_url_and_server_host_off_the_addresses():
    view = healthy()
    view.deployments[0]["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = "http://localhost:3000/"
    found = only(view, "urls")
    assert "ROOT_URL is http://localhost:3000/, not http://192.168.1.201:3000/" in found.message
    view = healthy()
    view.secrets[1]["data"]["host"] = b64("drone.local")  # read through the secretKeyRef
    assert "DRONE_SERVER_HOST is 'drone.local'" in only(view, "urls").message
    view = healthy()
    view.services[1]["status"]["loadBalancer"]["ingress"] = [{"ip": "192.168.1.207"}]
    assert "got 192.168.1.207, not 192.168.1.202 (drone.ip)" in only(view, "urls").message


def test_6_the_gitea_admin_job_as_root_or_with_a_password_to_change():
    view = healthy()
    view.jobs[0]["status"] = {"failed": 1}
    view.logs["gitea/gitea-admin-x2kq9/main"] = ("2024/11/27 cmd/main.go [F] Gitea is not supposed to be run as root. "
                                                 "Sorry. If you need to use privileged TCP ports please instead "
                                                 "use setcap and the `cap_net_bind_service` permission\n")
    found = only(view, "gitea admin")
    assert "refused to run as root" in found.message and "runAsUser: 1000" in found.fix[0]
    view.logs["gitea/gitea-admin-x2kq9/main"] = ('{"message":"You must change your password. Change it at: '
                                                 'http://192.168.1.201:3000/user/change_password"}\n')
    assert only(view, "gitea admin").fix == ("kubectl -n gitea exec deploy/gitea -- su git -c "
                                             "'gitea admin user must-change-password --unset drone-kit-admin'",)
    view.logs["gitea/gitea-admin-x2kq9/main"] = "database is locked\n"
    assert "failed: database is locked" in only(view, "gitea admin").message


def test_7_exec_format_error_names_the_node_s_architecture():
    view = healthy()
    view.pods.append(pod("app-1", "apps", node_name="pi-server", image="192.168.1.70:30500/our-task/app:1", status={
        "phase": "Running", "containerStatuses": [{"name": "main", "ready": False, "restartCount": 3,
                                                   "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}))
    assert worth_a_log(view.pods[-1])
    view.logs["apps/app-1/main"] = "exec /usr/local/bin/app: exec format error\n"
    found = only(view, "architecture")
    assert "apps/app-1 (192.168.1.70:30500/our-task/app:1) on pi-server, an arm64 node" in found.message
    assert "linux/amd64,linux/arm64" in found.fix[0] and "kubernetes.io/arch: amd64" in found.fix[1]


def test_8_rerun_damage_metallb_certificate_and_platform_secrets():
    view = healthy()
    view.secrets[0]["data"] = {}
    view.webhooks[0]["webhooks"][0]["clientConfig"] = {"service": {"name": "metallb-webhook-service"}}
    found = only(view, "metallb certificate")
    assert found.message.startswith("Secret metallb-webhook-cert is empty; metallb-webhook-configuration has webhooks "
                                    "without a caBundle")
    assert "rollout restart deployment controller" in found.fix[0]
    view = healthy()
    del view.secrets[2]["data"]["internal-token"]
    view.secrets[3]["data"]["rpc-secret"] = ""
    found_all = problems_of(view)
    assert [f.message for f in found_all] == ["Secret gitea/gitea-secrets lacks internal-token",
                                              "Secret drone/drone-secrets has empty rpc-secret"]
    assert found_all[1].fix[0] == ("kubectl -n drone patch secret drone-secrets --type json -p "
                                   "'[{\"op\": \"remove\", \"path\": \"/data/rpc-secret\"}]'")
    view.secrets.pop(3)
    assert "drone/drone-secrets is missing" in problems_of(view)[-1].message


def test_9_monitoring_oom_killed_and_unresolved_dashboards():
    view = healthy()
    view.pods[1]["status"]["containerStatuses"][0].update(restartCount=4, lastState={
        "terminated": {"reason": "OOMKilled", "exitCode": 137}})
    found = only(view, "monitoring")
    assert found.message == "prometheus-5c4b/main was OOMKilled (limit 256Mi, 4 restarts)"
    view = healthy()
    view.config_maps[0]["data"]["nodes.json"] = json.dumps({"panels": [{"datasource": "${DS_PROMETHEUS}"}]})
    assert "dashboard-nodes (nodes.json) still says ${DS_" in only(view, "monitoring").message


def test_10_no_memory_cgroup_and_a_volume_on_a_node_that_is_down():
    view = healthy()
    view.nodes[1]["status"]["capacity"]["memory"] = "0"
    found = only(view, "pi basics")
    assert found.message.startswith("nuc runs without the memory cgroup")
    assert any("cgroup_memory=1 cgroup_enable=memory" in line for line in found.fix)
    view = healthy()
    view.nodes[1]["status"]["conditions"] = [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                                              "message": "Kubelet stopped posting node status."}]
    view.volumes = [{"kind": "PersistentVolume", "metadata": meta("pvc-3f1"), "spec": {
        "claimRef": {"namespace": "gitea", "name": "gitea-data"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["nuc"]}]}]}}}}]
    found_all = problems_of(view)
    assert [(f.check, f.status) for f in found_all] == [("pi basics", WARNING), ("pi basics", FAILED)]
    assert "claim gitea/gitea-data lives on nuc, which is NotReady" in found_all[1].message


@pytest.mark.parametrize("broken", ["nothing", "pools"])
def test_diagnose_does_not_modify_the_view(broken):
    view = healthy()
    if broken == "pools":
        view.pools = None
    before = copy.deepcopy(view)
    diagnose(view, CONFIG, SECRETS)
    assert view == before


def test_what_bootstrap_renders_passes_doctor_s_checks_of_the_live_objects():
    rendered = [obj for module in (gitea, drone_server, grafana) for obj in module.COMPONENT.render(CONFIG)]
    view = ClusterView(deployments=[o for o in rendered if o["kind"] == "Deployment"],
                       config_maps=[o for o in rendered if o["kind"] == "ConfigMap"])
    checks = {f.check: f for f in diagnose(view, CONFIG)}
    assert checks["gitea webhooks"].status == OK and "'private'" in checks["gitea webhooks"].message
    assert checks["urls"].status == OK and checks["monitoring"].status == OK
