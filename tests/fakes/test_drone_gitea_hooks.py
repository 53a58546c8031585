"""Activation, Gitea's hooks and builds with the Gitea-backed Drone fake, and the whole headless
story with drone_kit's client code: token, OAuth2 app, first login, sync, activation, a real push."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import requests

from drone_kit.clients.drone_account import verify_first_login
from drone_kit.clients.gitea import DRONE_EVENTS
from drone_kit.clients.oauth_login import first_login
from tests.fakes.drone_gitea_world import ADMIN, PASSWORD, PIPELINE, World, push_commit, wire

APP = f"{ADMIN}/app"
OTHER_HOST_HOOK = "http://127.0.0.1:9/elsewhere"


def activated(world: World, repo: str = "app") -> dict:
    world.gitea_client().create_repository(repo, auto_init=True)
    assert world.api("POST", "/user/repos").status_code == 200
    answer = world.api("POST", f"/repos/{ADMIN}/{repo}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def signer_of(hook: dict) -> str:
    return parse_qs(urlsplit(hook["config"]["url"]).query)["secret"][0]


def hook_secret(world: World, repo: str, hook_id: int) -> str:
    return next(h.secret for h in world.gitea.repo(repo).hooks if h.id == hook_id)


def test_the_whole_headless_story(gitea, drone, tmp_path):
    world = wire(gitea, drone, proxy_host=drone.host)  # the proxy host is Drone itself here
    assert first_login(drone.url, ADMIN, PASSWORD).granted is True
    assert first_login(drone.url, ADMIN, PASSWORD).granted is False
    verify_first_login(drone.url, world.drone_token, ADMIN)
    repo = activated(world)
    assert (repo["active"], repo["config_path"], repo["timeout"]) == (True, ".drone.yml", 60)
    [hook] = world.drone_hooks(APP)
    assert re.fullmatch(rf"http://{drone.host}/hook\?secret=[A-Za-z0-9]{{32}}", hook["config"]["url"])
    world.gitea_client().create_hook(APP, OTHER_HOST_HOOK, "x")
    assert world.api("POST", f"/repos/{APP}").status_code == 200
    [again] = world.drone_hooks(APP)
    assert again["id"] != hook["id"] and signer_of(again) == signer_of(hook)  # the signer is kept
    assert [h["config"]["url"] for h in world.gitea_hooks(APP)] == [OTHER_HOST_HOOK, again["config"]["url"]]
    seen: list[tuple[dict, dict]] = []
    drone.on_build = lambda build, repo: seen.append((build, repo))
    commit = push_commit(world, APP, tmp_path, {".drone.yml": PIPELINE}, "add the pipeline")
    [build] = drone.wait_for_builds(APP, 1)
    assert (build["number"], build["status"], build["after"], build["ref"], build["message"], build["event"]) == (
        1, "pending", commit, "refs/heads/main", "add the pipeline\n", "push")  # git's message, newline too
    delivery = next(t for t in gitea.wait_for_deliveries(1) if t.hook_id == again["id"])
    assert delivery.is_succeed and delivery.response_info["status"] == 200
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen and seen[0][0]["number"] == 1 and seen[0][1]["slug"] == APP
    assert drone.pipeline(APP, 1) == PIPELINE


def test_activation_answers_the_repository_without_its_signer(logged_in):
    repo = activated(logged_in)
    assert not {"signer", "secret"} & set(repo)
    [hook] = logged_in.drone_hooks(APP)
    assert hook["active"] is True and hook["type"] == "gitea" and hook["config"]["content_type"] == "json"
    assert set(DRONE_EVENTS) <= set(hook["events"])  # Gitea lists pull_request's sub-events too
    assert hook_secret(logged_in, APP, hook["id"]) == signer_of(hook)


def test_activation_deletes_only_the_first_hook_on_the_proxy_host(logged_in):
    """service/hook/util.go findHook returns the first match; protocols.md §6 says every one."""
    logged_in.gitea_client().create_repository("app", auto_init=True)
    for n in (1, 2):
        logged_in.gitea_client().create_hook(APP, f"http://{logged_in.drone.host}/hook?old={n}", "old")
    logged_in.api("POST", "/user/repos")
    assert logged_in.api("POST", f"/repos/{APP}").status_code == 200
    urls = [h["config"]["url"] for h in logged_in.drone_hooks(APP)]
    assert len(urls) == 2 and urls[0].endswith("old=2") and "secret=" in urls[1]


def test_a_static_signer_and_a_proxy_host_shape_the_hook(gitea, drone):
    world = wire(gitea, drone, proxy_secret="s" * 32, proxy_host="shim.local:8080", proxy_proto="http")
    first_login(drone.url, ADMIN, PASSWORD)
    activated(world)
    [hook] = world.gitea_hooks(APP)
    assert hook["config"]["url"] == f"http://shim.local:8080/hook?secret={'s' * 32}"
    assert hook_secret(world, APP, hook["id"]) == "s" * 32


def test_update_disable_and_repair(logged_in):
    activated(logged_in)
    patched = logged_in.api("PATCH", f"/repos/{APP}", json={"trusted": True, "timeout": 30, "config_path": "ci.yml"})
    assert (patched.json()["trusted"], patched.json()["timeout"], patched.json()["config_path"]) == (True, 30, "ci.yml")
    assert logged_in.api("DELETE", f"/repos/{APP}").json()["active"] is False
    assert len(logged_in.drone_hooks(APP)) == 1  # disabling leaves Gitea's hook alone
    client = logged_in.gitea_client()
    client.delete_hook(APP, logged_in.drone_hooks(APP)[0]["id"])
    assert logged_in.api("POST", f"/repos/{APP}/repair").status_code == 200
    assert len(logged_in.drone_hooks(APP)) == 1
    assert logged_in.api("GET", f"/repos/{APP}").json()["permissions"] == {"read": True, "write": True, "admin": True}


def test_only_a_drone_admin_sets_trust_and_timeout(world):
    world.gitea.add_user("bob", "bob-password", "bob@example.com")
    requests.post(f"{world.gitea.url}/api/v1/user/repos", json={"name": "tool", "auto_init": True},
                  auth=("bob", "bob-password"), timeout=5).raise_for_status()
    assert first_login(world.drone.url, "bob", "bob-password").landed_on == "/register"  # a new account
    bob = world.drone.user("bob")
    assert bob is not None and not bob.admin
    world.api("POST", "/user/repos", token=bob.hash)
    assert world.api("POST", "/repos/bob/tool", token=bob.hash).status_code == 200
    patched = world.api("PATCH", "/repos/bob/tool", token=bob.hash, json={"trusted": True, "timeout": 5,
                                                                            "protected": True}).json()
    assert (patched["trusted"], patched["timeout"], patched["protected"]) == (False, 60, True)
    assert world.api("POST", f"/repos/{APP}", token=bob.hash).json() == {"message": "Not Found"}


def test_an_expired_gitea_token_is_refreshed_before_use(logged_in):
    user = logged_in.drone.user(ADMIN)
    old = user.token
    user.expiry = int(time.time())
    activated(logged_in)
    assert user.token != old and user.expiry > time.time() + 3000


def post_hook(world: World, body: bytes, signature: str = "", query: str = "") -> requests.Response:
    headers = {"X-Gitea-Event": "push", "X-Gitea-Signature": signature, "Content-Type": "application/json"}
    return requests.post(f"{world.drone.url}/hook{query}", data=body, headers=headers, timeout=10)


def test_hook_refusals(logged_in):
    activated(logged_in)
    unknown = b'{"ref":"refs/heads/main","after":"' + b"a" * 40 + b'","repository":{"owner":{"login":"x"},"name":"y"}}'
    assert (post_hook(logged_in, unknown).status_code, post_hook(logged_in, unknown).json()) == (
        400, {"message": "Cannot find repository"})
    ours = unknown.replace(b'"x"', f'"{ADMIN}"'.encode()).replace(b'"y"', b'"app"')
    assert post_hook(logged_in, ours, signature="00" * 32).json() == {"message": "Invalid webhook signature"}
    assert post_hook(logged_in, ours, query="?secret=wrong").status_code == 400


def test_a_push_without_a_pipeline_or_with_a_broken_one(logged_in, tmp_path):
    activated(logged_in)
    push_commit(logged_in, APP, tmp_path, {"x.txt": "x"}, "no pipeline yet")
    [missing] = logged_in.gitea.wait_for_deliveries(1)
    assert missing.response_info["status"] == 500 and '"message":"Not Found"' in missing.response_info["body"]
    assert logged_in.drone.builds(APP) == []
    push_commit(logged_in, APP, tmp_path, {".drone.yml": "kind: [pipeline"}, "broken pipeline")
    [broken] = logged_in.drone.wait_for_builds(APP, 1)
    assert broken["status"] == "error" and broken["error"] and broken["number"] == 1


def test_builds_are_listed_and_their_status_and_steps_settable(logged_in, tmp_path):
    activated(logged_in)
    called = threading.Event()
    logged_in.drone.on_build = lambda build, repo: called.set()
    push_commit(logged_in, APP, tmp_path, {".drone.yml": PIPELINE}, "one")
    push_commit(logged_in, APP, tmp_path, {"x": "2"}, "two [skip ci]")
    logged_in.gitea.wait_for_deliveries(2)
    assert called.wait(5) and [b["number"] for b in logged_in.api("GET", f"/repos/{APP}/builds").json()] == [1]
    stage = logged_in.api("GET", f"/repos/{APP}/builds/1").json()["stages"][0]
    assert (stage["name"], stage["status"], stage["type"]) == ("default", "pending", "kubernetes")
    steps = [{"number": 1, "name": "test", "status": "success", "exit_code": 0}]
    logged_in.drone.update_build(APP, 1, status="success", stages=[{**stage, "status": "success", "steps": steps}])
    found = logged_in.api("GET", f"/repos/{APP}/builds/1").json()
    assert found["status"] == "success" and found["stages"][0]["steps"] == steps
    assert logged_in.api("GET", f"/repos/{APP}/builds/7").json() == {"message": "sql: no rows in result set"}


def test_an_inactive_repository_accepts_hooks_and_builds_nothing(logged_in, tmp_path):
    activated(logged_in)
    logged_in.api("DELETE", f"/repos/{APP}")
    push_commit(logged_in, APP, tmp_path, {".drone.yml": PIPELINE}, "while disabled")
    [delivery] = logged_in.gitea.wait_for_deliveries(1)
    assert delivery.response_info["status"] == 200 and logged_in.drone.builds(APP) == []
