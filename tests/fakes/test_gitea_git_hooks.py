"""Real git over the fake Gitea's smart HTTP, and the hooks a push sends: signed as Gitea signs them,
in Gitea's order, to the hosts ALLOWED_HOST_LIST allows (see tests/fakes/gitea_hooks.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.gitea import FakeGitea
from tests.fakes.gitea_hooks import signatures
from tests.fakes.gitea_hostlist import HostList
from tests.fakes.gitea_json import go_indented
from tests.fakes.http_server import FakeHandler, LoopbackServer
from tests.paths import FIXTURES

ADMIN, PASSWORD, SECRET = "gitea-admin", "admin-password", "hook-secret"
GITEA_FIXTURES = FIXTURES / "gitea"


class Receiver:
    """A hook target on loopback that keeps what it was sent."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(FakeHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((dict(self.headers.items()), body))
                self.answer(status, "ok", "text/plain")

        self.server = LoopbackServer(Handler)
        self.url = self.server.url + "/hook?secret=x"


@pytest.fixture
def gitea() -> Iterator[FakeGitea]:
    with FakeGitea(ADMIN, PASSWORD, email="admin@example.com", allowed_host_list="loopback") as fake:
        yield fake


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    yield target
    target.server.stop()


def api(gitea: FakeGitea, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{gitea.url}/api/v1{path}", auth=(ADMIN, PASSWORD), timeout=5, **kwargs)


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Alice",
           "GIT_AUTHOR_EMAIL": "admin@example.com", "GIT_COMMITTER_NAME": "Alice",
           "GIT_COMMITTER_EMAIL": "admin@example.com",
           "GIT_AUTHOR_DATE": "2026-11-26T09:41:02+03:00", "GIT_COMMITTER_DATE": "2026-11-26T09:41:02+03:00"}
    return subprocess.run(["git", "-c", "credential.helper=", "-c", "init.defaultBranch=main", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, check=check)


def remote(gitea: FakeGitea, repo: str, password: str = PASSWORD) -> str:
    return f"http://{ADMIN}:{password}@127.0.0.1:{gitea.server.port}/{ADMIN}/{repo}.git"


def add_hook(gitea: FakeGitea, repo: str, url: str, **changes: object) -> dict:
    form = {"type": "gitea", "config": {"url": url, "content_type": "json", "secret": SECRET},
            "events": ["create", "delete", "push"], "active": True, **changes}
    answer = api(gitea, "POST", f"/repos/{ADMIN}/{repo}/hooks", json=form)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize("name", ["push-branch.json", "push-tag.json", "create-tag.json"])
def test_signatures_and_bodies_match_the_fixtures(name):
    vector = json.loads((GITEA_FIXTURES / "signatures.json").read_text())[name]
    body = (GITEA_FIXTURES / name).read_bytes()
    assert signatures(vector["secret"], body)[0] == vector["X-Gitea-Signature"]
    assert go_indented(json.loads(body)) == body  # the fake writes payloads byte for byte as Gitea does
    assert signatures("", body) == ("", "")


def test_hooks_take_gitea_s_defaults_and_refuse_bad_config(gitea):
    api(gitea, "POST", "/user/repos", json={"name": "app"})
    made = api(gitea, "POST", f"/repos/{ADMIN}/app/hooks",
               json={"type": "gitea", "config": {"url": "http://127.0.0.1:9/hook", "content_type": "json"}}).json()
    assert (made["active"], made["events"], made["config"]) == (
        False, ["push"], {"content_type": "json", "url": "http://127.0.0.1:9/hook"})
    drone_events = add_hook(gitea, "app", "http://127.0.0.1:9/x", events=["pull_request", "create", "delete", "push"])
    assert drone_events["events"][:4] == ["create", "delete", "push", "pull_request"]
    assert "pull_request_sync" in drone_events["events"]
    for form, message in [
        ({"type": "jenkins", "config": {"url": "u", "content_type": "json"}}, "Invalid hook type: jenkins"),
        ({"type": "gitea", "config": {"content_type": "json"}}, "Missing config option: url"),
        ({"type": "gitea", "config": {"url": "u", "content_type": "xml"}}, "Invalid content type"),
    ]:
        answer = api(gitea, "POST", f"/repos/{ADMIN}/app/hooks", json=form)
        assert (answer.status_code, answer.json()["message"]) == (422, message)
    patched = api(gitea, "PATCH", f"/repos/{ADMIN}/app/hooks/{made['id']}", json={"active": True}).json()
    assert patched["active"] is True and patched["events"] == ["push"]
    assert api(gitea, "DELETE", f"/repos/{ADMIN}/app/hooks/{made['id']}").status_code == 204
    assert [h["id"] for h in api(gitea, "GET", f"/repos/{ADMIN}/app/hooks").json()] == [drone_events["id"]]


def test_a_real_push_sends_a_signed_push_hook(gitea, receiver, tmp_path):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
    hook = add_hook(gitea, "app", receiver.url)
    work = tmp_path / "app"
    git(tmp_path, "clone", remote(gitea, "app"), str(work))
    (work / ".drone.yml").write_text("kind: pipeline\n")
    git(work, "add", ".drone.yml")
    git(work, "commit", "-m", "Add <pipeline> & steps")
    pushed = git(work, "push", "origin", "main")
    head = git(work, "rev-parse", "HEAD").stdout.strip()
    [task] = gitea.wait_for_deliveries(1)
    headers, body = receiver.requests[0]
    assert headers["X-Gitea-Signature"] == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(), pushed.stderr
    assert headers["X-Hub-Signature-256"] == "sha256=" + headers["X-Gitea-Signature"]
    assert headers["X-Hub-Signature"] == "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert (headers["X-Gitea-Event"], headers["X-GitHub-Event"], headers["X-Gogs-Event-Type"]) == ("push",) * 3
    assert headers["X-Gitea-Delivery"] == headers["X-GitHub-Delivery"] == task.uuid
    assert "Authorization" not in headers and headers["Content-Type"] == "application/json"
    assert b"\\u003cpipeline\\u003e \\u0026" in body and not body.endswith(b"\n")
    payload = json.loads(body)
    assert (payload["ref"], payload["after"], payload["total_commits"]) == ("refs/heads/main", head, 1)
    commit = payload["commits"][0]
    assert (commit["id"], commit["message"], commit["added"], commit["timestamp"]) == (
        head, "Add <pipeline> & steps\n", [".drone.yml"], "2026-11-26T09:41:02+03:00")
    assert commit["author"] == {"name": "Alice", "email": "admin@example.com", "username": ADMIN}
    assert payload["repository"]["clone_url"] == f"{gitea.url}/{ADMIN}/app.git"
    assert (task.hook_id, task.is_succeed, task.response_info["status"]) == (hook["id"], True, 200)
    raw = api(gitea, "GET", f"/repos/{ADMIN}/app/raw/{head}/.drone.yml")
    assert raw.content == b"kind: pipeline\n"


def test_a_new_branch_sends_create_then_push(gitea, receiver, tmp_path):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
    add_hook(gitea, "app", receiver.url)
    work = tmp_path / "app"
    git(tmp_path, "clone", remote(gitea, "app"), str(work))
    git(work, "checkout", "-b", "feature")
    (work / "f.txt").write_text("f\n")
    git(work, "add", "f.txt")
    git(work, "commit", "-m", "Feature")
    git(work, "push", "origin", "feature")
    gitea.wait_for_deliveries(2)
    events = [(h["X-Gitea-Event"], json.loads(b)["ref"]) for h, b in receiver.requests]
    assert events == [("create", "feature"), ("push", "refs/heads/feature")]
    push = json.loads(receiver.requests[1][1])
    assert push["before"] == "0" * 40 and [c["message"] for c in push["commits"]] == ["Feature\n", "Initial commit\n"]


def test_a_branch_shows_its_head_commit_as_get_branch_does(gitea, tmp_path):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
    api(gitea, "POST", "/user/repos", json={"name": "empty"})
    work = tmp_path / "app"
    git(tmp_path, "clone", remote(gitea, "app"), str(work))
    git(work, "checkout", "-b", "feature/x")
    git(work, "commit", "--allow-empty", "-m", "On a branch")
    git(work, "push", "origin", "feature/x")
    head = git(work, "rev-parse", "HEAD").stdout.strip()
    branch = api(gitea, "GET", f"/repos/{ADMIN}/app/branches/feature/x").json()
    assert (branch["name"], branch["protected"], branch["user_can_push"]) == ("feature/x", False, True)
    commit = branch["commit"]
    assert (commit["id"], commit["message"], commit["timestamp"]) == (
        head, "On a branch\n", "2026-11-26T09:41:02+03:00")  # ToPayloadCommit: the author's date
    assert commit["added"] is None  # only webhooks list the files
    assert api(gitea, "GET", f"/repos/{ADMIN}/app/branches/gone").status_code == 404
    assert api(gitea, "GET", f"/repos/{ADMIN}/empty/branches/main").status_code == 404  # an empty repository


def test_a_push_needs_the_right_password(gitea, tmp_path):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
    work = tmp_path / "app"
    git(tmp_path, "clone", f"http://127.0.0.1:{gitea.server.port}/{ADMIN}/app.git", str(work))  # public: anonymous
    git(work, "commit", "--allow-empty", "-m", "x")
    refused = git(work, "push", remote(gitea, "app", password="wrong"), "main", check=False)
    assert refused.returncode != 0 and "Authentication failed" in refused.stderr
    anonymous = git(work, "push", f"http://127.0.0.1:{gitea.server.port}/{ADMIN}/app.git", "main", check=False)
    assert anonymous.returncode != 0
    assert git(work, "push", remote(gitea, "app"), "main").returncode == 0


def test_a_private_repository_needs_credentials_to_clone(gitea, tmp_path):
    api(gitea, "POST", "/user/repos", json={"name": "secret", "private": True, "auto_init": True})
    anonymous = git(tmp_path, "clone", f"http://127.0.0.1:{gitea.server.port}/{ADMIN}/secret.git", "a", check=False)
    assert anonymous.returncode != 0
    assert git(tmp_path, "clone", remote(gitea, "secret"), "b").returncode == 0


def test_a_hook_to_a_host_not_allowed_is_not_sent_and_kept_with_gitea_s_error(receiver, tmp_path):
    with FakeGitea(ADMIN, PASSWORD) as gitea:  # ALLOWED_HOST_LIST defaults to `external`
        api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
        hook = add_hook(gitea, "app", receiver.url)
        assert api(gitea, "POST", f"/repos/{ADMIN}/app/hooks/{hook['id']}/tests").status_code == 204
        [task] = gitea.wait_for_deliveries(1)
    port = receiver.server.port
    assert receiver.requests == [] and task.is_succeed is False
    assert task.response_info["body"] == (
        f'Delivery: Post "{receiver.url}": dial tcp 127.0.0.1:{port}: webhook can only call allowed HTTP servers '
        f"(check your webhook.ALLOWED_HOST_LIST setting), deny '127.0.0.1(127.0.0.1:{port})'")


def test_the_test_delivery_reaches_an_inactive_hook(gitea, receiver):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
    hook = add_hook(gitea, "app", receiver.url, active=False)
    assert api(gitea, "POST", f"/repos/{ADMIN}/app/hooks/{hook['id']}/tests").status_code == 204
    gitea.wait_for_deliveries(1)
    assert json.loads(receiver.requests[0][1])["commits"][0]["message"] == "Initial commit\n"


def test_the_authorization_header_is_sent_only_when_the_hook_has_one(gitea, receiver):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True})
    hook = add_hook(gitea, "app", receiver.url, authorization_header="Bearer shim-token")
    api(gitea, "POST", f"/repos/{ADMIN}/app/hooks/{hook['id']}/tests")
    [task] = gitea.wait_for_deliveries(1)
    assert receiver.requests[0][0]["Authorization"] == "Bearer shim-token"
    assert task.request_info["headers"]["Authorization"] == "******"


@pytest.mark.parametrize("setting, host, ip, allowed", [
    ("external", "127.0.0.1", "127.0.0.1", False), ("private", "127.0.0.1", "127.0.0.1", False),
    ("loopback", "localhost", "127.0.0.1", True), ("private", "10.0.0.5", "10.0.0.5", True),
    ("external", "10.0.0.5", "10.0.0.5", False), ("external", "8.8.8.8", "8.8.8.8", True),
    ("192.168.0.0/16", "192.168.3.4", "192.168.3.4", True), ("*.lan", "shim.lan", "10.1.1.1", True),
    ("*", "anything", "10.1.1.1", True), ("private", "100.64.0.1", "100.64.0.1", True),
])
def test_the_host_list_matches_as_gitea_s_hostmatcher(setting, host, ip, allowed):
    assert HostList(setting).allows(host, ip) is allowed
