"""The whole loop, as `drone_kit demo` runs it: a real `git push` of the sample app to the Gitea
fake → a signed hook to the real shim (on loopback, at the address Drone registered: the shim's
Service) → the Drone fake → its runner, which runs the repository's pipeline with `drone_kit exec`
on the suite's engine: build-push → the suite's registry (served at a NodePort, as the platform
serves it), deploy → the suite's real Kubernetes node, verify → the app's Service. Then a broken
release: red at deploy, rolled back, the previous version still serving. And the loop with Drone
down while a push comes: the shim keeps the hook and hands it over once Drone is back.

What stands in for the cluster network: the shim's and the app's Services, and the registry's
NodePort, served on loopback (service_forward.py), as kube-proxy would route them. The pipeline
runs as `type: docker` with the suite's plugin images, a kubeconfig secret in place of the
runner's service account, and the suite's Prometheus; everything else is the demo's own file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from drone_kit.platform import demo_files
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, DRONE_NAMESPACE
from drone_kit.platform.config_file import read_config
from drone_kit.platform.secrets_store import read_value
from drone_kit.platform.wire import DRONE_TOKEN
from drone_kit.platform.wiring_plan import WIRING_SECRET
from tests.fakes.drone_gitea_runner import Runner
from tests.fakes.drone_gitea_world import git
from tests.platform.service_forward import Forward, free_node_port, service_endpoints
from tests.platform.wired_platform import Wired, wired_platform
from tests.stack import netguard
from tests.stack.processes import stop, wait_until_ready
from tests.stack.project_images import ROOT, import_base, project_image
from tests.stack.prometheus import running_prometheus
from tests.stack.registry import free_port
from tests.stack.require import require_binary

SHIM_SERVICE = f"shim.{DRONE_KIT_NAMESPACE}.svc:80"


@dataclass
class Loop:
    wired: Wired
    runner: Runner
    shim_url: str
    app: Forward  # the app's Service
    registry_port: int
    slug: str  # the demo's repository

    def hook_outcomes(self) -> dict[str, tuple[bool, str]]:
        """Commit → (Gitea's delivery succeeded, the shim's status of that hook), for each push."""
        return {commit: (ok, record.get("status", "(unknown)")) for commit, (ok, record) in self.hooks().items()}

    def hooks(self) -> dict[str, tuple[bool, dict]]:
        """Commit → (Gitea's delivery succeeded, the shim's record of that hook), for each push."""
        shim = {d["delivery"]: d for d in requests.get(f"{self.shim_url}/deliveries", timeout=5).json()}
        return {json.loads(task.payload_content).get("after", ""): (task.is_succeed, shim.get(task.uuid, {}))
                for task in self.wired.gitea.hook_tasks if task.repo_full_name == self.slug
                and task.event_type == "push"}


def pipeline_for_the_suite(engine, base: str, app_url: str, prometheus: str):
    """The demo's pipeline as the suite's engine runs it (see the module's docstring)."""
    def adapt(pipeline: dict, checkout: Path) -> dict:
        shutil.copytree(ROOT / "build" / "wheels", checkout / demo_files.APP_FOLDER / "wheels", dirs_exist_ok=True)
        steps = {step["name"]: step for step in pipeline["steps"]}
        for name, plugin in (("build", "build-push"), ("deploy", "deploy"), ("verify", "verify")):
            steps[name]["image"] = project_image(engine, plugin)
        steps["build"]["volumes"] = [{"name": "docker", "path": "/var/run/docker.sock"}]
        steps["build"]["settings"]["build_args"].update(BASE=base, PIP_OPTIONS="--no-index --find-links /src/wheels")
        for name in ("deploy", "verify"):
            steps[name]["settings"]["kubeconfig"] = {"from_secret": "kubeconfig"}
        verify = steps["verify"]["settings"]
        verify.update(url=f"{app_url}/", version_url=f"{app_url}/version", prometheus=prometheus)
        pipeline["type"] = "docker"
        pipeline.pop("service_account_name")
        pipeline["volumes"] = [{"name": "docker", "host": {"path": str(engine.socket)}}]
        return pipeline
    return adapt


@pytest.fixture(scope="module")
def loop(platform_cluster, kube_node, engine, registry, base_image, tmp_path_factory):
    work = tmp_path_factory.mktemp("loop")
    registry_port = free_node_port()
    # The platform registry at its NodePort on the server's address, as pipelines and the node see it.
    registry_forward = Forward(lambda: [("127.0.0.1", int(registry.host.rpartition(":")[2]))], registry_port)
    (work / "platform.yaml").write_text(yaml.safe_dump({"server": {"address": "127.0.0.1"},
                                                        "registry": {"node_port": registry_port}}))
    config = read_config(work / "platform.yaml")
    with wired_platform(platform_cluster, kube_node.kubeconfig(), base_image, work, config,
                        ("--config", str(work / "platform.yaml"))) as wired:
        wiring = wired.run("wire")
        assert wiring.returncode == 0, wiring.stdout + wiring.stderr
        shim_port = free_port()
        shim = start_shim(wired, shim_port, work)
        wired.gitea.routes[SHIM_SERVICE] = ("127.0.0.1", shim_port)
        app = Forward(service_endpoints(platform_cluster, demo_files.APP_NAMESPACE, demo_files.APP, "http"))
        netguard.allow_test_network(str(engine.bridge.network))  # the app's pods, behind its Service
        base = import_base(engine)
        try:
            # the platform's Prometheus scrapes the shim too
            with running_prometheus(require_binary("prometheus", "prometheus"), [f"127.0.0.1:{shim_port}"]) as prom:
                runner = Runner(wired.drone, wired.gitea.url, (config.gitea.admin_user, wired.password), engine,
                                {"kubeconfig": kube_node.kubeconfig()},
                                pipeline_for_the_suite(engine, base, app.url, prom), network_host=True).attach()
                try:
                    yield Loop(wired, runner, f"http://127.0.0.1:{shim_port}", app, registry_port,
                               f"{config.gitea.admin_user}/{demo_files.REPO_NAME}")
                finally:
                    runner.close()
        finally:
            stop(shim)
            app.close()
            netguard.forget_test_network(str(engine.bridge.network))
            registry_forward.close()
            for kind in ("Deployment", "Service"):
                platform_cluster.delete("apps/v1" if kind == "Deployment" else "v1", kind, demo_files.APP,
                                        demo_files.APP_NAMESPACE)


def start_shim(wired: Wired, port: int, work: Path) -> subprocess.Popen:
    """The shim as its Deployment runs it: its settings from the Secrets wiring made, in its environment."""
    secret = lambda key: read_value(wired.cluster, DRONE_NAMESPACE, WIRING_SECRET, key) or ""  # noqa: E731
    env = {**os.environ, "DRONE_KIT_SHIM_LISTEN": f"127.0.0.1:{port}", "DRONE_KIT_SHIM_DRONE_URL": wired.drone.url,
           "DRONE_KIT_SHIM_HOOK_SECRET": secret("DRONE_FEATURE_SERVER_PROXY_SECRET"),
           "DRONE_KIT_SHIM_WEBHOOK_SECRET": secret("DRONE_WEBHOOK_SECRET"),
           "DRONE_KIT_SHIM_DRONE_TOKEN": read_value(wired.cluster, DRONE_TOKEN.namespace, DRONE_TOKEN.name, "token"),
           "DRONE_KIT_SHIM_OUTBOX": str(work / "outbox.sqlite"), "DRONE_KIT_SHIM_RETRY_MAX": "2s"}
    log = work / "shim.log"
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "drone_kit", "shim", "serve"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)

    def answers() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_until_ready(process, answers, "the shim", log, 30)
    return process


def test_the_demo_deploys_a_push_and_rolls_back_a_broken_one(loop):
    result = loop.wired.run("demo", "--timeout", "10", timeout=1500)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed + "\n".join(run.failure for run in loop.runner.runs)
    good, broken = sorted(loop.wired.drone.builds(loop.slug), key=lambda build: build["number"])[-2:]
    assert (good["status"], broken["status"]) == ("success", "failure"), printed
    assert f"the app serves {good['after'][:8]}" in result.stdout
    assert "deploy: failure" in result.stdout and f"rolled back: the app still serves {good['after'][:8]}" in printed
    assert "a push deployed, a broken push was rolled back" in result.stdout
    # the image running is the first build's, from the registry at its NodePort
    live = loop.wired.cluster.get("apps/v1", "Deployment", demo_files.APP, demo_files.APP_NAMESPACE)
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith(f"127.0.0.1:{loop.registry_port}/{demo_files.REPO_NAME}/sample-app@sha256:"), image
    assert requests.get(f"{loop.app.url}/version", timeout=5).text.strip() == good["after"][:8]
    # each push went Gitea → shim → Drone, once
    outcomes = loop.hook_outcomes()
    assert outcomes[good["after"]] == outcomes[broken["after"]] == (True, "delivered"), outcomes
    assert not [secret for secret in loop.wired.secrets() if secret in printed]


def test_a_push_while_drone_is_down_waits_in_the_shim_and_deploys_once_drone_is_back(loop, tmp_path):
    drone, admin = loop.wired.drone, loop.slug.split("/")[0]
    numbers = {build["number"] for build in drone.builds(loop.slug)}
    clone = tmp_path / "app"
    git(tmp_path, "clone", "--quiet", f"http://{admin}:{loop.wired.password}@127.0.0.1:{loop.wired.gitea.server.port}/"
        f"{loop.slug}.git", str(clone))
    config = drone.config
    drone.stop()
    try:
        git(clone, "revert", "--no-edit", "HEAD")  # the demo's broken release, taken back
        git(clone, "push", "--quiet", "origin", "HEAD:main")
        commit = git(clone, "rev-parse", "HEAD")
        deadline = time.monotonic() + 20
        while not (loop.hook_outcomes().get(commit) or (False, ""))[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        held = loop.hook_outcomes().get(commit)
        assert held is not None and held[0] and held[1] in ("pending", "sending"), held  # Gitea's part done
        time.sleep(3)  # the shim tries Drone, and tries again
    finally:
        drone.start(config)
    build = wait_for_build(loop, numbers)
    assert build["after"] == commit and build["status"] == "success", "\n".join(loop.runner.runs[-1].transcript)
    gitea_ok, record = loop.hooks()[commit]
    assert gitea_ok and record["status"] == "delivered" and record["attempts"] >= 2, record  # tried while down
    assert [b for b in drone.builds(loop.slug) if b["after"] == commit] == [build]  # once, not twice
    assert requests.get(f"{loop.app.url}/version", timeout=5).text.strip() == commit[:8]


def wait_for_build(loop: Loop, numbers: set[int], timeout: float = 600) -> dict:
    """The first build not among `numbers`, once it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [b for b in loop.wired.drone.builds(loop.slug) if b["number"] not in numbers]
        if new:
            return loop.runner.wait(loop.slug, new[0]["number"], timeout=deadline - time.monotonic())
        time.sleep(0.5)
    raise AssertionError(f"no new build of {loop.slug} in {timeout} s: {loop.hook_outcomes()}")
