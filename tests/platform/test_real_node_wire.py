"""`drone_kit wire` and `drone_kit wire repo`, run as an operator runs them, against the suite's
real Kubernetes node (the Secrets, Drone's and the shim's Deployments as bootstrap renders them,
with stand-in containers) and the fakes of Gitea and Drone on loopback (tests/fakes), Drone
restarted with the node's environment for it at each rollout (drone_on_the_node.py).

One wired platform for the module, in the order an operator meets things: the first wire; a
second that changes nothing; the OAuth secret lost; a Gitea that refuses the login; repositories.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from kubernetes import client as k8s

from drone_kit.platform.components import shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, DRONE_NAMESPACE, PlatformConfig
from drone_kit.platform.secrets_store import read_value
from drone_kit.platform.wire import DRONE_TOKEN
from drone_kit.platform.wiring_plan import GITEA_TOKEN_SECRET, WIRING_SECRET, login_redirect
from tests.fakes.drone_gitea_world import git
from tests.platform.wired_platform import Wired, wired_platform

CONFIG = PlatformConfig()


@pytest.fixture(scope="module")
def wired(platform_cluster, kube_node, base_image, tmp_path_factory):
    with wired_platform(platform_cluster, kube_node.kubeconfig(), base_image, tmp_path_factory.mktemp("wire"),
                        CONFIG) as platform:
        yield platform


def assert_no_secret_in(wired: Wired, result: subprocess.CompletedProcess) -> None:
    printed = result.stdout + result.stderr
    assert wired.secrets() and not [secret for secret in wired.secrets() if secret in printed]


def test_the_first_wire_makes_the_token_and_the_app_restarts_drone_and_logs_the_admin_in(wired):
    result = wired.run("wire")
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("Gitea access token 'drone-kit' created", "Gitea OAuth2 application 'drone' created",
                 "drone restarted", "shim restarted", f"{CONFIG.gitea.admin_user} logged in to Drone through Gitea"):
        assert line in result.stdout, result.stdout
    app = next(app for app in wired.gitea.oauth.apps if app.name == "drone")
    assert app.confidential and app.redirect_uris == [login_redirect(CONFIG)]
    # Drone runs with what the node gives it: the new client, the shim as proxy, the admin's token
    assert wired.drone.config.client_id == app.client_id
    assert wired.drone.config.proxy_host == f"shim.{DRONE_KIT_NAMESPACE}.svc"
    admin = wired.drone.user(CONFIG.gitea.admin_user)
    assert admin is not None and admin.last_login and admin.token and admin.hash == read_value(
        wired.cluster, DRONE_TOKEN.namespace, DRONE_TOKEN.name, "token")
    assert_no_secret_in(wired, result)


def versions(wired: Wired) -> list[str]:
    found = [wired.cluster.get("apps/v1", "Deployment", name, namespace) for namespace, name in (
        (DRONE_NAMESPACE, "drone"), (DRONE_KIT_NAMESPACE, shim.NAME))]
    found += [wired.cluster.get("v1", "Secret", name, namespace) for namespace, name in (
        (DRONE_NAMESPACE, WIRING_SECRET), (DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET),
        (DRONE_TOKEN.namespace, DRONE_TOKEN.name))]
    return [obj["metadata"]["resourceVersion"] for obj in found]


def test_a_second_wire_changes_nothing_and_restarts_nothing(wired):
    before = versions(wired)
    restarts, logins = wired.node.restarts, list(wired.drone.logins)
    time.sleep(1.1)  # a needless write would show as a new managedFields time only in another second
    result = wired.run("wire")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wire: 0 changes" in result.stdout
    assert versions(wired) == before
    assert (wired.node.restarts, wired.drone.logins) == (restarts, logins)


def test_a_lost_oauth_secret_makes_the_app_again_and_drone_logs_in_with_it(wired):
    old = next(app for app in wired.gitea.oauth.apps if app.name == "drone")
    k8s.CoreV1Api(wired.cluster.api_client).patch_namespaced_secret(WIRING_SECRET, DRONE_NAMESPACE, [
        {"op": "remove", "path": "/data/DRONE_GITEA_CLIENT_SECRET"}])
    logins = len(wired.drone.logins)
    result = wired.run("wire")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Gitea OAuth2 application 'drone' made again" in result.stdout and "drone restarted" in result.stdout
    apps = [app for app in wired.gitea.oauth.apps if app.name == "drone"]
    assert len(apps) == 1 and apps[0].client_id != old.client_id
    assert wired.drone.config.client_id == apps[0].client_id
    assert len(wired.drone.logins) == logins + 1  # the old app's grant, and Drone's Gitea token, went with it
    assert_no_secret_in(wired, result)


def test_a_gitea_that_refuses_the_login_stops_with_the_one_manual_step(wired):
    admin = wired.gitea.user(CONFIG.gitea.admin_user)
    k8s.CoreV1Api(wired.cluster.api_client).patch_namespaced_secret(WIRING_SECRET, DRONE_NAMESPACE, [
        {"op": "remove", "path": "/data/DRONE_GITEA_CLIENT_SECRET"}])
    admin.password = "changed-in-gitea-by-hand"
    try:
        result = wired.run("wire")
    finally:
        admin.password = wired.password
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"log in once at {wired.drone.url.rstrip('/')}/login" in result.stderr
    assert_no_secret_in(wired, result)
    again = wired.run("wire")
    assert again.returncode == 0 and "logged in to Drone through Gitea" in again.stdout, again.stdout + again.stderr


def test_wire_repo_activates_once_through_the_shim_and_trusts_only_when_asked(wired, tmp_path):
    admin = CONFIG.gitea.admin_user
    token = read_value(wired.cluster, DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, "token")
    from drone_kit.clients.gitea import GiteaClient
    api = GiteaClient(wired.gitea.url, token=token)
    api.create_repository("web", auto_init=False)
    api.create_repository("docs", auto_init=False)  # no .drone.yml: --all leaves it out
    clone = tmp_path / "web"
    git(tmp_path, "clone", "--quiet", f"http://{admin}:{wired.password}@127.0.0.1:{wired.gitea.server.port}/{admin}/web.git",
        str(clone))
    (clone / ".drone.yml").write_text("kind: pipeline\ntype: kubernetes\nname: default\nsteps: []\n")
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "-m", "pipeline")
    git(clone, "push", "--quiet", "origin", "HEAD:main")

    result = wired.run("wire", "repo", "--all")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{admin}/web: activated in Drone" in result.stdout and "docs" not in result.stdout
    hooks = api.hooks(f"{admin}/web")
    assert [hook["config"]["url"].split("?")[0] for hook in hooks] == [f"http://shim.{DRONE_KIT_NAMESPACE}.svc/hook"]
    repo = wired.drone.repo(f"{admin}/web")
    assert repo is not None and repo.active and not repo.trusted

    again = wired.run("wire", "repo", f"{admin}/web")
    assert again.returncode == 0 and "wire repo: 0 changes" in again.stdout, again.stdout + again.stderr
    assert [hook["id"] for hook in api.hooks(f"{admin}/web")] == [hooks[0]["id"]]  # not replaced

    trusted = wired.run("wire", "repo", f"{admin}/web", "--trusted")
    assert trusted.returncode == 0 and "trusted True" in trusted.stdout, trusted.stdout + trusted.stderr
    assert wired.drone.repo(f"{admin}/web").trusted
    missing = wired.run("wire", "repo", f"{admin}/nothing")
    assert missing.returncode == 1 and f"Gitea has no repository {admin}/nothing" in missing.stderr
