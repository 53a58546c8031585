"""The registry, Gitea (with its admin step), the Drone server and the Drone runner as rendered:
where each runs, the configuration its program reads, secrets only by reference, sizes and probes,
images from `platform.yaml`, and the admin step's script run against a stand-in `gitea` CLI."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from drone_kit import __version__
from drone_kit.platform import footprint, phases
from drone_kit.platform.component import GeneratedSecret
from drone_kit.platform.components import drone_runner, drone_server, gitea, registry
from drone_kit.platform.config import (
    DRONE_NAMESPACE,
    GITEA_NAMESPACE,
    REGISTRY_NAMESPACE,
    DroneSection,
    GiteaSection,
    PlatformConfig,
    ServerSection,
)
from drone_kit.platform.secrets_store import random_value, secret_object

CONFIG = PlatformConfig()
COMPONENTS = (registry.COMPONENT, gitea.COMPONENT, drone_server.COMPONENT, drone_runner.COMPONENT)


def rendered(config: PlatformConfig = CONFIG) -> list[dict]:
    return [obj for component in COMPONENTS for obj in component.render(config)]


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} rendered"
    return matches[0]


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def all_containers(obj: dict) -> list[dict]:
    return pod_spec(obj).get("initContainers", []) + pod_spec(obj)["containers"]


def deployments(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] == "Deployment"]


def only_container(obj: dict) -> dict:
    [container] = pod_spec(obj)["containers"]
    return container


def env_of(container: dict) -> dict[str, str]:
    """Literal values; a secret reference as `secret:<name>/<key>`."""
    values = {}
    for item in container.get("env", []):
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        values[item["name"]] = f"secret:{ref['name']}/{ref['key']}" if ref else item["value"]
    return values


def secret_refs(objects: list[dict]) -> list[tuple[str, dict]]:
    """(namespace, secretKeyRef) of every container environment variable read from a Secret."""
    return [(o["metadata"]["namespace"], item["valueFrom"]["secretKeyRef"])
            for o in deployments(objects) for c in all_containers(o)
            for item in c.get("env", []) if "secretKeyRef" in (item.get("valueFrom") or {})]


# --- the registry -------------------------------------------------------------------------------

def test_the_registry_serves_its_volume_on_the_configured_node_port_with_deletes_enabled():
    config = dataclasses.replace(CONFIG, registry=dataclasses.replace(CONFIG.registry, node_port=31000,
                                                                      storage="20Gi"))
    objects = registry.COMPONENT.render(config)
    assert [(o["kind"], o["metadata"].get("namespace")) for o in objects] == [
        ("Namespace", None), ("PersistentVolumeClaim", REGISTRY_NAMESPACE), ("Deployment", REGISTRY_NAMESPACE),
        ("Service", REGISTRY_NAMESPACE)]
    claim = find(objects, "PersistentVolumeClaim", "registry")
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "local-path"
    deployment = find(objects, "Deployment", "registry")
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    container = only_container(deployment)
    assert env_of(container) == {"REGISTRY_STORAGE_DELETE_ENABLED": "true",
                                 "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": "/var/lib/registry"}
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/registry"}]
    assert pod_spec(deployment)["volumes"][0]["persistentVolumeClaim"]["claimName"] == "registry"
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/", "port": 5000}
    assert pod_spec(deployment)["enableServiceLinks"] is False
    [port] = find(objects, "Service", "registry")["spec"]["ports"]
    assert (find(objects, "Service", "registry")["spec"]["type"], port["port"], port["targetPort"],
            port["nodePort"]) == ("NodePort", 5000, 5000, 31000)
    [check] = registry.COMPONENT.checks(config)
    assert (check.namespace, check.service, check.port, check.path, check.status) == \
        (REGISTRY_NAMESPACE, "registry", 5000, "/v2/", 200)
    assert registry.COMPONENT.url(config) == "http://192.168.1.70:31000/v2/"


def test_the_registry_goes_to_the_named_server_node_or_else_to_a_control_plane_node():
    unnamed = pod_spec(find(registry.COMPONENT.render(CONFIG), "Deployment", "registry"))
    terms = unnamed["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    # Terms are ORed, expressions within one ANDed: a node with either k3s label qualifies.
    assert [t["matchExpressions"] for t in terms] == [
        [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
        [{"key": "node-role.kubernetes.io/master", "operator": "Exists"}]]
    assert "nodeSelector" not in unnamed
    named_config = dataclasses.replace(CONFIG, server=ServerSection(node="pi-server"))
    named = pod_spec(find(registry.COMPONENT.render(named_config), "Deployment", "registry"))
    assert named["nodeSelector"] == {"kubernetes.io/hostname": "pi-server"}
    assert "affinity" not in named


# --- Gitea --------------------------------------------------------------------------------------

def test_gitea_is_configured_for_sqlite_its_fixed_address_and_hooks_to_private_addresses():
    config = dataclasses.replace(CONFIG, gitea=GiteaSection(ip="192.168.1.205", http_port=3300, storage="7Gi"))
    objects = gitea.COMPONENT.render(config)
    deployment = find(objects, "Deployment", "gitea")
    assert deployment["metadata"]["namespace"] == GITEA_NAMESPACE
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    container = only_container(deployment)
    assert env_of(container) == {
        "GITEA__database__DB_TYPE": "sqlite3",
        "GITEA__server__ROOT_URL": "http://192.168.1.205:3300/",
        "GITEA__server__DOMAIN": "192.168.1.205",
        "GITEA__server__SSH_DOMAIN": "192.168.1.205",
        "GITEA__server__HTTP_PORT": "3300",
        "GITEA__server__DISABLE_SSH": "true",
        "GITEA__security__INSTALL_LOCK": "true",
        "GITEA__security__SECRET_KEY": "secret:gitea-secrets/secret-key",
        "GITEA__security__INTERNAL_TOKEN": "secret:gitea-secrets/internal-token",
        "GITEA__webhook__ALLOWED_HOST_LIST": "private",
        "GITEA__security__ALLOWED_HOST_LIST": "private",
        "GITEA__service__DISABLE_REGISTRATION": "true",
    }
    assert container["ports"] == [{"name": "http", "containerPort": 3300, "protocol": "TCP"}]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/api/healthz", "port": 3300}
    assert find(objects, "PersistentVolumeClaim", "gitea")["spec"]["resources"]["requests"]["storage"] == "7Gi"
    service = find(objects, "Service", "gitea")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {"metallb.io/loadBalancerIPs": "192.168.1.205"}
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(3300, 3300)]
    [check] = gitea.COMPONENT.checks(config)
    assert (check.namespace, check.service, check.port, check.path) == (GITEA_NAMESPACE, "gitea", 3300, "/api/healthz")
    assert gitea.COMPONENT.url(config) == "http://192.168.1.205:3300/"


def test_before_gitea_starts_the_image_s_setup_runs_as_root_then_the_admin_step_as_git():
    objects = gitea.COMPONENT.render(CONFIG)
    deployment = find(objects, "Deployment", "gitea")
    setup, admin = pod_spec(deployment)["initContainers"]
    main = only_container(deployment)
    assert setup["image"] == admin["image"] == main["image"] == CONFIG.images.gitea
    assert setup["command"] == ["/etc/s6/gitea/setup"] and setup["securityContext"]["runAsUser"] == 0
    # The setup renders app.ini from the same settings the server is started with.
    assert setup["env"] == main["env"]
    assert admin["command"] == ["/bin/sh", "-c", gitea.ADMIN_SCRIPT]
    assert admin["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True}
    assert setup["volumeMounts"] == admin["volumeMounts"] == main["volumeMounts"]
    assert env_of(admin) == {"ADMIN_USER": "secret:gitea-admin/username",
                             "ADMIN_PASSWORD": "secret:gitea-admin/password",
                             "ADMIN_EMAIL": CONFIG.gitea.admin_email, "APP_INI": "/data/gitea/conf/app.ini"}
    assert [(w.kind, w.namespace, w.name) for w in gitea.COMPONENT.workloads(CONFIG)] == \
        [("Deployment", GITEA_NAMESPACE, "gitea")]
    assert not [o for o in objects if o["kind"] == "Job"]


def test_gitea_s_generated_secrets_keep_the_admin_name_with_its_password():
    keys, admin = gitea.COMPONENT.secrets(CONFIG)
    assert (keys.namespace, keys.name, keys.keys) == \
        (GITEA_NAMESPACE, "gitea-secrets", ("secret-key", "internal-token"))
    assert (admin.namespace, admin.name, admin.keys) == (GITEA_NAMESPACE, "gitea-admin", ("password",))
    assert dict(admin.fixed) == {"username": CONFIG.gitea.admin_user}


# --- the admin step's script, run against a stand-in gitea CLI -----------------------------------

FAKE_GITEA = """#!/bin/sh
# Records each call; `admin user list` prints the users in $STATE like Gitea's tabwriter does.
echo "$*" >> "$CALLS"
case "$*" in *"$FAILING") [ -n "$FAILING" ] && { echo "gitea: $FAILING failed" >&2; exit 1; };; esac
case "$*" in
  *"admin user list"*)
    printf 'ID   Username        Email             IsActive IsAdmin 2FA\\n'
    n=1; while read -r user; do printf '%s    %s   %s@example.com  true     true    false\\n' "$n" "$user" "$user";
    n=$((n + 1)); done < "$STATE";;
  *"admin user create"*) echo "$ADMIN_USER" >> "$STATE";;
esac
"""


def _tool(directory: Path, name: str, text: str) -> None:
    path = directory / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


# The image's shell is busybox's; it runs awk and grep as its own applets.
SHELLS = ["sh"] + (["busybox"] if shutil.which("busybox") else [])


@pytest.fixture(params=SHELLS)
def run_admin_script(request, tmp_path):
    """Runs ADMIN_SCRIPT with a fake gitea CLI first on PATH; returns a function giving
    (exit code, output, gitea calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _tool(bin_dir, "gitea", FAKE_GITEA)
    state, calls = tmp_path / "users", tmp_path / "calls"
    command = ["/bin/sh", "-c"] if request.param == "sh" else ["busybox", "sh", "-c"]

    def run(existing: list[str], failing: str = "") -> tuple[int, str, list[str]]:
        state.write_text("".join(f"{user}\n" for user in existing))
        calls.write_text("")
        environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(state), "CALLS": str(calls),
                       "FAILING": failing, "ADMIN_USER": "drone-kit-admin", "ADMIN_PASSWORD": "pw-0123456789",
                       "ADMIN_EMAIL": "admin@example.com", "APP_INI": "/data/gitea/conf/app.ini"}
        done = subprocess.run([*command, gitea.ADMIN_SCRIPT], env=environment, capture_output=True, text=True,
                              timeout=60)
        return done.returncode, done.stdout + done.stderr, calls.read_text().splitlines()

    return run


MIGRATE = "--config /data/gitea/conf/app.ini migrate"
LIST = "--config /data/gitea/conf/app.ini admin user list"


def test_the_admin_script_migrates_then_creates_the_admin_without_a_forced_password_change(run_admin_script):
    code, output, calls = run_admin_script(existing=["someone"])
    assert code == 0, output
    assert calls == [MIGRATE, LIST,
                     "--config /data/gitea/conf/app.ini admin user create --admin --username drone-kit-admin "
                     "--password pw-0123456789 --email admin@example.com --must-change-password=false"]
    assert "admin drone-kit-admin created" in output and "pw-0123456789" not in output


def test_the_admin_script_resyncs_the_password_of_an_existing_admin(run_admin_script):
    code, output, calls = run_admin_script(existing=["someone", "drone-kit-admin"])
    assert code == 0, output
    assert calls == [MIGRATE, LIST,
                     "--config /data/gitea/conf/app.ini admin user change-password --username drone-kit-admin "
                     "--password pw-0123456789",
                     "--config /data/gitea/conf/app.ini admin user must-change-password --unset drone-kit-admin"]
    assert "password re-synced" in output


def test_the_admin_script_does_not_take_a_longer_name_for_the_admin(run_admin_script):
    code, output, calls = run_admin_script(existing=["drone-kit-admin-old"])
    assert code == 0, output
    assert any(" admin user create " in call for call in calls)


@pytest.mark.parametrize("failing", ["migrate", "admin user list"])
def test_the_admin_script_stops_at_the_first_failing_step(run_admin_script, failing):
    # A failed init container keeps Gitea from starting on a database it could not prepare.
    code, output, calls = run_admin_script(existing=[], failing=failing)
    assert code != 0
    assert calls[-1].endswith(failing)
    assert not any(" create " in call for call in calls)


# --- the Drone server ---------------------------------------------------------------------------

def test_the_drone_server_knows_its_address_gitea_and_its_secrets():
    config = dataclasses.replace(CONFIG, drone=DroneSection(ip="192.168.1.209", storage="3Gi"),
                                 gitea=GiteaSection(ip="192.168.1.204", http_port=3001))
    objects = drone_server.COMPONENT.render(config)
    assert [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects] == [
        ("Namespace", None, DRONE_NAMESPACE), ("PersistentVolumeClaim", DRONE_NAMESPACE, "drone"),
        ("Deployment", DRONE_NAMESPACE, "drone"), ("Service", DRONE_NAMESPACE, "drone")]
    deployment = find(objects, "Deployment", "drone")
    spec = pod_spec(deployment)
    assert spec["enableServiceLinks"] is False and spec["automountServiceAccountToken"] is False
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    container = only_container(deployment)
    assert env_of(container) == {
        "DRONE_SERVER_HOST": "192.168.1.209",
        "DRONE_SERVER_PROTO": "http",
        "DRONE_SERVER_PORT": ":80",
        "DRONE_GITEA_SERVER": "http://192.168.1.204:3001",
        "DRONE_RPC_SECRET": "secret:drone-secrets/rpc-secret",
        "DRONE_DATABASE_SECRET": "secret:drone-secrets/database-secret",
        "DRONE_COOKIE_SECRET": "secret:drone-secrets/cookie-secret",
        "DRONE_DATABASE_DRIVER": "sqlite3",
        "DRONE_DATABASE_DATASOURCE": "/data/database.sqlite",
        "DRONE_DATADOG_ENABLED": "false",
    }
    optional = {item["name"] for item in container["env"]
                if (item.get("valueFrom") or {}).get("secretKeyRef", {}).get("optional")}
    assert optional == set()
    # What the wiring makes later (the OAuth client, the shim, the admin) may be missing at the first start.
    assert container["envFrom"] == [{"secretRef": {"name": "drone-wiring", "optional": True}}]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 80}
    assert find(objects, "PersistentVolumeClaim", "drone")["spec"]["resources"]["requests"]["storage"] == "3Gi"
    service = find(objects, "Service", "drone")
    assert service["metadata"]["annotations"] == {"metallb.io/loadBalancerIPs": "192.168.1.209"}
    assert (service["spec"]["type"], [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]]) == \
        ("LoadBalancer", [(80, 80)])
    assert drone_server.COMPONENT.url(config) == "http://192.168.1.209/"


def test_no_service_is_named_like_a_drone_setting():
    # A Service `drone-server` would inject DRONE_SERVER_PORT=tcp://…, which Drone refuses.
    for service in (o for o in rendered() if o["kind"] == "Service"):
        prefix = service["metadata"]["name"].upper().replace("-", "_")
        assert prefix not in ("DRONE_SERVER", "DRONE_RPC", "DRONE_RUNNER", "DRONE_GITEA", "DRONE_DATABASE")


def test_drone_s_database_secret_is_generated_as_the_32_characters_its_aes_key_needs():
    [spec] = drone_server.COMPONENT.secrets(CONFIG)
    values = secret_object(spec, lambda: "0123456789abcdef" * 4)["stringData"]
    assert len(values["database-secret"]) == 32
    assert len(values["rpc-secret"]) == 64 and len(values["cookie-secret"]) == 64


def test_a_sized_secret_value_is_cut_or_lengthened_and_an_unsized_one_left_alone():
    spec = GeneratedSecret("ns", "s", ("short", "long", "free"), sizes=(("short", 4), ("long", 10)))
    pieces = iter(["abcdef", "gh", "ijkl", "mnop", "qrst"])
    assert random_value(spec, "short", lambda: next(pieces)) == "abcd"
    assert random_value(spec, "long", lambda: next(pieces)) == "ghijklmnop"
    assert random_value(spec, "free", lambda: "qrst") == "qrst"


# --- the Drone runner ---------------------------------------------------------------------------

def test_the_runner_reaches_the_server_s_service_with_the_server_s_rpc_secret():
    objects = rendered()
    runner = only_container(find(objects, "Deployment", "drone-runner"))
    server = only_container(find(objects, "Deployment", "drone"))
    host, port = env_of(runner)["DRONE_RPC_HOST"].rsplit(":", 1)
    name, namespace, suffix = host.split(".")
    service = find(objects, "Service", name)
    assert (namespace, suffix) == (service["metadata"]["namespace"], "svc")
    assert int(port) in [p["port"] for p in service["spec"]["ports"]]
    assert service["spec"]["selector"].items() <= \
        find(objects, "Deployment", "drone")["spec"]["template"]["metadata"]["labels"].items()
    assert env_of(runner)["DRONE_RPC_PROTO"] == "http"
    assert env_of(runner)["DRONE_RPC_SECRET"] == env_of(server)["DRONE_RPC_SECRET"]


def test_the_runner_runs_builds_in_the_build_namespace_and_lets_only_our_build_push_image_be_privileged():
    config = dataclasses.replace(CONFIG, drone=DroneSection(build_namespace="ci-builds", runner_capacity=3))
    objects = drone_runner.COMPONENT.render(config)
    deployment = find(objects, "Deployment", "drone-runner")
    assert deployment["metadata"]["namespace"] == DRONE_NAMESPACE
    values = env_of(only_container(deployment))
    assert values["DRONE_NAMESPACE_DEFAULT"] == "ci-builds"
    assert values["DRONE_RUNNER_CAPACITY"] == "3"
    assert values["DRONE_RUNNER_PRIVILEGED_IMAGES"] == f"192.168.1.70:30500/drone-kit/build-push:{__version__}"
    spec = pod_spec(deployment)
    assert spec["terminationGracePeriodSeconds"] == 3600
    assert spec["serviceAccountName"] == "drone-runner"
    assert only_container(deployment)["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 3000}
    assert find(objects, "Namespace", "ci-builds")
    assert find(objects, "ServiceAccount", "drone-runner")["metadata"]["namespace"] == DRONE_NAMESPACE
    role, binding = find(objects, "Role", "drone-runner"), find(objects, "RoleBinding", "drone-runner")
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "ci-builds"
    assert {(tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]} == {
        (("secrets",), ("create", "delete")),
        (("pods", "pods/log"), ("get", "create", "delete", "list", "watch", "update"))}
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "drone-runner"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "drone-runner", "namespace": DRONE_NAMESPACE}]
    assert drone_runner.COMPONENT.depends_on == (drone_server.COMPONENT.name,)


def test_the_privileged_image_follows_a_mirror_of_drone_kit_s_images():
    config = dataclasses.replace(CONFIG, images=dataclasses.replace(CONFIG.images, drone_kit="mirror.lan/dk"))
    runner = only_container(find(drone_runner.COMPONENT.render(config), "Deployment", "drone-runner"))
    assert env_of(runner)["DRONE_RUNNER_PRIVILEGED_IMAGES"] == f"mirror.lan/dk/build-push:{__version__}"


# --- all four -----------------------------------------------------------------------------------

def test_every_container_is_sized_and_every_long_running_one_probed():
    for deployment in deployments(rendered()):
        for c in all_containers(deployment):
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}, c["name"]
            for resource in ("cpu", "memory"):
                assert footprint.quantity(c["resources"]["requests"][resource]) <= \
                    footprint.quantity(c["resources"]["limits"][resource]), c["name"]
        for c in pod_spec(deployment)["containers"]:
            assert c["readinessProbe"]["httpGet"]["path"] and c["livenessProbe"]["httpGet"]["path"], c["name"]


def test_every_image_is_the_configured_one():
    images = dataclasses.replace(CONFIG.images, registry="mirror.lan/registry:9", gitea="mirror.lan/gitea:9",
                                 drone="mirror.lan/drone:9", drone_runner="mirror.lan/runner:9")
    by_workload = {d["metadata"]["name"]: {c["image"] for c in all_containers(d)}
                   for d in deployments(rendered(dataclasses.replace(CONFIG, images=images)))}
    assert by_workload == {"registry": {"mirror.lan/registry:9"}, "gitea": {"mirror.lan/gitea:9"},
                           "drone": {"mirror.lan/drone:9"}, "drone-runner": {"mirror.lan/runner:9"}}
    for c in (c for d in deployments(rendered()) for c in all_containers(d)):
        assert ":" in c["image"].rsplit("/", 1)[-1] and not c["image"].endswith(":latest")


def test_secrets_are_only_referenced_and_every_reference_names_a_declared_key():
    objects = rendered()
    assert not [o for o in objects if o["kind"] == "Secret"]
    declared = {(s.namespace, s.name): {*s.keys, *dict(s.fixed)} for c in COMPONENTS for s in c.secrets(CONFIG)}
    refs = secret_refs(objects)
    assert len(refs) == 10  # gitea: 2 in setup, 2 in the server, 2 for the admin; drone: 3; runner: 1
    for namespace, ref in refs:
        assert not ref.get("optional") and ref["key"] in declared[(namespace, ref["name"])], ref
    literal_names = {item["name"] for d in deployments(objects) for c in all_containers(d)
                     for item in c.get("env", []) if "value" in item}
    assert not {name for name in literal_names if any(word in name for word in ("SECRET", "PASSWORD", "TOKEN"))}


def test_the_four_ask_a_pi_for_under_600_mebibytes():
    assert footprint.of_objects(rendered()).memory_request < 600 * 2**20


def test_namespaces_come_before_what_is_in_them_and_nothing_is_rendered_twice():
    objects = rendered()
    assert phases.duplicates(objects) == []
    namespaces = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    assert namespaces == {REGISTRY_NAMESPACE, GITEA_NAMESPACE, DRONE_NAMESPACE, CONFIG.drone.build_namespace}
    assert {o["metadata"]["namespace"] for o in objects if o["kind"] != "Namespace"} <= namespaces


def test_every_service_selects_its_own_deployment_s_pods():
    objects = rendered()
    for service in (o for o in objects if o["kind"] == "Service"):
        matching = [d["metadata"]["name"] for d in objects if d["kind"] == "Deployment"
                    and d["metadata"]["namespace"] == service["metadata"]["namespace"]
                    and service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert matching == [service["metadata"]["name"]]
