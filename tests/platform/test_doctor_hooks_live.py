"""The hooks check end to end on loopback, without the Kubernetes node: real git pushes to the fake
Gitea, its signed deliveries (or ALLOWED_HOST_LIST refusals) to the real shim (uvicorn) at its
in-cluster URL, the shim relaying to the fake Drone; then what doctor reads (Gitea with drone_kit's
token, the shim through a stand-in for the API server's service proxy) and what it finds. The
check itself sends nothing: Gitea has no more deliveries after it than before."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from drone_kit.clients.gitea import GiteaClient
from drone_kit.platform.doctor_hooks import hooks
from drone_kit.platform.doctor_hooks_view import DAY, gather_hooks
from drone_kit.platform.findings import FAILED, Finding
from drone_kit.platform.wiring_plan import SHIM_URL
from tests.fakes.drone import FakeDrone
from tests.fakes.gitea import FakeGitea
from tests.platform.test_doctor_hooks import cluster
from tests.shim.support import SECRET, running_shim, wait_for

ADMIN, PASSWORD = "gitea-admin", "admin-password"
SHIM_AUTHORITY = f"{urlsplit(SHIM_URL).hostname}:80"


class ShimProxy:
    """ClusterObjects.proxy_get for the shim's Service only, answered by the shim on loopback."""

    def __init__(self, url: str) -> None:
        self.url = url

    def proxy_get(self, namespace: str, service: str, port: int | str, path: str,
                  timeout: float = 5.0) -> tuple[int, str]:
        assert (namespace, service, port) == ("drone-kit", "shim", 80)
        try:
            answer = requests.get(f"{self.url}/{path}", timeout=timeout)
        except requests.RequestException:
            return 0, ""
        return answer.status_code, answer.text


@pytest.fixture
def drone() -> Iterator[FakeDrone]:
    fake = FakeDrone(SECRET)
    yield fake
    fake.down()


@pytest.fixture
def shim(tmp_path: Path, drone: FakeDrone) -> Iterator[str]:
    with running_shim(tmp_path, drone.url, drone_token=drone.token) as url:
        yield url


def wired_gitea(shim_url: str, allowed_host_list: str) -> tuple[FakeGitea, GiteaClient]:
    """A Gitea whose hooks to http://shim.drone-kit.svc reach the shim on loopback, and a client
    with an access token as `drone_kit wire` makes it."""
    gitea = FakeGitea(ADMIN, PASSWORD, email="admin@example.com", allowed_host_list=allowed_host_list)
    gitea.routes[SHIM_AUTHORITY] = ("127.0.0.1", urlsplit(shim_url).port or 80)
    admin = GiteaClient(gitea.url, username=ADMIN, password=PASSWORD)
    token = admin.create_token("drone-kit", ["write:repository", "write:user"]).sha1
    return gitea, GiteaClient(gitea.url, token=token)


def push_after_wiring(gitea: FakeGitea, client: GiteaClient, tmp: Path, name: str, secret: str = SECRET) -> float:
    """A repository activated as Drone does it (a hook to the shim), then a commit pushed to it,
    dated just after the hook was made; the commit's date."""
    client.create_repository(name, auto_init=True)
    client.create_hook(f"{ADMIN}/{name}", f"{SHIM_URL}/hook?secret={secret}", secret)
    dated = time.time() + 40
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(dated))
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Alice", "GIT_COMMITTER_NAME": "Alice",
           "GIT_AUTHOR_EMAIL": "admin@example.com", "GIT_COMMITTER_EMAIL": "admin@example.com",
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    remote = f"http://{ADMIN}:{PASSWORD}@127.0.0.1:{gitea.server.port}/{ADMIN}/{name}.git"
    work = tmp / name
    for args, cwd in ((["clone", remote, str(work)], tmp), (["commit", "--allow-empty", "-m", "Build me"], work),
                      (["push", "origin", "main"], work)):
        subprocess.run(["git", "-c", "credential.helper=", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return dated


def test_what_reached_drone_what_drone_refused_and_what_the_shim_refused(shim, drone, tmp_path):
    gitea, client = wired_gitea(shim, "loopback")
    with gitea:
        drone.unknown_repos.add(f"{ADMIN}/lost")
        dated = max(push_after_wiring(gitea, client, tmp_path, name) for name in ("app", "lost"))
        dated = max(dated, push_after_wiring(gitea, client, tmp_path, "resigned", secret="another-signer"))
        gitea.wait_for_deliveries(3)
        wait_for(lambda: sorted(d["status"] for d in requests.get(f"{shim}/deliveries", timeout=5).json()) ==
                 ["delivered", "failed"], what="the shim to deliver one hook and fail the other")
        sent = len(gitea.deliveries())
        later = dated + 70  # doctor run once the last push can no longer be on its way
        seen = gather_hooks(ShimProxy(shim), client, gitea.root_url, later, later - DAY)
        assert len(gitea.deliveries()) == sent  # read-only: no test delivery
    findings = hooks(cluster("private"), seen)
    assert [(f.status, f.message.split(":")[0]) for f in findings] == [
        (FAILED, f"{ADMIN}/lost"), (FAILED, f"{ADMIN}/resigned")]
    lost, resigned = findings
    assert "Drone answered HTTP 400 Cannot find repository" in lost.message
    assert lost.fix[0] == f"drone_kit wire repo {ADMIN}/lost"
    assert "has no hook in the shim's record" in resigned.message
    assert resigned.fix[0].startswith("the shim refused 1 hook with a bad signature since it started")
    assert gitea.deliveries(f"{ADMIN}/resigned")[0].response_info["status"] == 401  # as Gitea shows it


def test_a_push_gitea_refuses_to_send_is_laid_at_allowed_host_list(shim, drone, tmp_path):
    gitea, client = wired_gitea(shim, "external")  # Gitea's default since 1.16: no private addresses
    with gitea:
        dated = push_after_wiring(gitea, client, tmp_path, "app")
        [task] = gitea.wait_for_deliveries(1)
        seen = gather_hooks(ShimProxy(shim), client, gitea.root_url, dated + 70, dated + 70 - DAY)
    assert "webhook can only call allowed HTTP servers" in task.response_info["body"]
    [finding] = hooks(cluster(host_list=None), seen)
    assert isinstance(finding, Finding) and finding.status == FAILED
    assert finding.message.startswith(f"{ADMIN}/app: ") and "has no hook in the shim's record" in finding.message
    assert finding.fix[0].startswith("Gitea's ALLOWED_HOST_LIST 'external' refuses the shim at 10.43.12.7")
    assert finding.fix[1] == (f"Gitea keeps what happened under the hook's Recent Deliveries: "
                              f"{gitea.root_url}{ADMIN}/app/settings/hooks/1")
