"""The fake Drone refuses what Drone 2 refuses and answers what it answers, byte for byte where a
client could tell (see tests/fakes/drone.py for the Drone sources each answer follows)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests

from tests.fakes.drone import FakeDrone
from tests.fakes.drone_answers import go_json
from tests.paths import FIXTURES

GITEA = FIXTURES / "gitea"
SIGNER = "drone-kit-test-secret"
REPO = "our-task/nginx-demo"
UNAUTHORIZED = b'{"message":"Unauthorized"}\n'


@pytest.fixture
def drone():
    with FakeDrone(SIGNER) as fake:
        yield fake


def payload(name: str = "push-branch.json", **changes: object) -> dict:
    return {**json.loads((GITEA / name).read_text()), **changes}


def hmac_hex(body: bytes, key: str = SIGNER) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def send(drone: FakeDrone, body: dict | bytes, event: str = "push", signature: str | None = None,
         query: str = "") -> requests.Response:
    """A Gitea delivery to Drone's /hook, signed with the signer unless `signature` says otherwise."""
    data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
    headers = {"Content-Type": "application/json", "X-Gitea-Event": event, "X-Gitea-Delivery": "d-1",
               "X-Gitea-Signature": hmac_hex(data) if signature is None else signature}
    return requests.post(f"{drone.url}/hook{query}", data=data, headers=headers, timeout=5)


def api(drone: FakeDrone, method: str, path: str, token: str | None = "", **kwargs) -> requests.Response:
    """An API call with the admin's token (`token=""`), another token, or none (None)."""
    token = drone.token if token == "" else token
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.request(method, f"{drone.url}/api{path}", headers=headers, timeout=5, **kwargs)


@pytest.mark.parametrize("method, path", [
    ("POST", "/user/repos"), ("GET", "/user"), ("GET", f"/repos/{REPO}/builds"), ("POST", f"/repos/{REPO}"),
    ("GET", "/repos/nobody/knows/builds"),  # a guest is not told whether a repository exists
])
@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_the_api_refuses_a_missing_or_wrong_token(drone, method, path, token):
    answer = api(drone, method, path, token=token)
    assert (answer.status_code, answer.content) == (401, UNAUTHORIZED)
    assert answer.headers["Content-Type"] == "application/json"
    assert drone.syncs == 0 and drone.activated == []


def test_where_drone_reads_the_token(drone):
    builds = f"{drone.url}/api/repos/{REPO}/builds"
    assert requests.get(builds, params={"access_token": drone.token}, timeout=5).status_code == 200
    assert requests.get(builds, headers={"Authorization": drone.token}, timeout=5).status_code == 200
    assert requests.get(builds, headers={"Authorization": f"token {drone.token}"}, timeout=5).status_code == 401
    # The header, when there is one, is the only place looked at.
    wrong_header = requests.get(builds, params={"access_token": drone.token}, headers={"Authorization": "Bearer x"},
                                timeout=5)
    assert wrong_header.status_code == 401


def test_hooks_and_health_need_no_token(drone):
    assert send(drone, payload()).status_code == 200
    health = requests.get(f"{drone.url}/healthz", timeout=5)
    assert (health.status_code, health.text) == (200, "OK")


def test_a_token_is_drawn_when_none_is_given():
    with FakeDrone(SIGNER) as one, FakeDrone(SIGNER) as other, FakeDrone(SIGNER, token="fixed") as fixed:
        assert len(one.token) == 32 and one.token != other.token and fixed.token == "fixed"


def test_a_push_becomes_a_pending_build(drone):
    body = payload()
    answer = send(drone, body)
    build = answer.json()
    assert answer.status_code == 200 and answer.content.endswith(b"}\n")
    assert build["number"] == 1 and build["status"] == "pending" and build["event"] == "push"
    assert build["after"] == body["after"] and build["ref"] == "refs/heads/main" and build["target"] == "main"
    assert build["message"] == body["commits"][0]["message"] and isinstance(build["created"], int)
    assert drone.builds[REPO] == [build]
    assert drone.delivered_ids("push") == ["d-1"] and drone.deliveries[0]["headers"]["x-gitea-signature"]


@pytest.mark.parametrize("name", ["push-branch.json", "push-tag.json", "create-tag.json"])
def test_the_recorded_gitea_signatures_are_accepted(name):
    vector = json.loads((GITEA / "signatures.json").read_text())[name]
    with FakeDrone(vector["secret"]) as fake:
        answer = send(fake, (GITEA / name).read_bytes(), vector["X-Gitea-Event"], vector["X-Gitea-Signature"])
    assert answer.status_code == 200 and len(fake.deliveries) == 1


@pytest.mark.parametrize("signature, query, accepted", [
    ("good", "", True), ("GOOD", "", True),  # Go's hex decoding takes either case
    ("0" * 64, "", False), ("not hex", "", False), ("sha256=good", "", False), ("good ", "", False),
    ("", f"?secret={SIGNER}", True), ("", "?secret=nope", False), ("", "", False),
    ("0" * 64, f"?secret={SIGNER}", False),  # with a header, the query is not looked at
    ("good", "?secret=nope", True),
])
def test_signatures_are_checked_as_go_scm_does(drone, signature, query, accepted):
    data = json.dumps(payload()).encode()
    good = hmac_hex(data)
    signature = signature.replace("good", good).replace("GOOD", good.upper())
    answer = send(drone, data, signature=signature, query=query)
    if accepted:
        assert answer.status_code == 200 and answer.json()["number"] == 1
    else:
        assert (answer.status_code, answer.content) == (400, b'{"message":"Invalid webhook signature"}\n')
        assert drone.builds == {} and drone.deliveries == []


def test_an_event_drone_does_not_parse_is_answered_before_anything_is_checked(drone):
    drone.unknown_repos.add(REPO)
    answer = send(drone, b"not even json", event="repository", signature="0" * 64)
    assert (answer.status_code, answer.content) == (200, b"")
    assert "Content-Type" not in answer.headers and drone.deliveries == []


def test_an_unknown_repository_is_refused_before_the_signature_is_checked(drone):
    drone.unknown_repos.add(REPO)
    answer = send(drone, payload(), signature="0" * 64)
    assert (answer.status_code, answer.content) == (400, b'{"message":"Cannot find repository"}\n')


def test_the_repository_is_the_owners_username_and_the_name_not_the_full_name(drone):
    drone.unknown_repos.add("team/app")
    body = payload()
    body["repository"] = {**body["repository"], "full_name": "team/app"}
    assert send(drone, body).status_code == 200 and list(drone.builds) == [REPO]


def test_an_undecodable_body_is_a_bad_request(drone):
    answer = send(drone, b"[1, 2]")
    assert answer.status_code == 400 and "unmarshal" in answer.json()["message"]


def test_an_inactive_repository_builds_nothing(drone):
    drone.inactive_repos.add(REPO)
    answer = send(drone, payload())
    assert (answer.status_code, answer.content) == (200, b"")
    assert drone.builds == {} and drone.delivered_ids() == ["d-1"]


@pytest.mark.parametrize("event, body, status", [
    ("push", payload(after="0" * 40), 200),  # a branch or tag deleted: go-scm's push, ignored
    ("push", payload("push-tag.json", after="0" * 40, ref="refs/tags/v1.2.0"), 200),
    ("delete", payload("create-tag.json", ref="feature", ref_type="branch"), 204),
    ("delete", payload("create-tag.json"), 200),
    ("create", payload("create-tag.json"), 200),
    ("create", payload("create-tag.json", ref="feature", ref_type="branch"), 200),
    ("issues", payload(action="opened"), 200),
])
def test_deletions_and_creations_build_nothing(drone, event, body, status):
    answer = send(drone, body, event=event)
    assert (answer.status_code, answer.content) == (status, b"")
    assert drone.builds == {} and drone.delivered_ids(event) == ["d-1"]


def test_a_ref_type_go_scm_does_not_know_is_dropped_unread(drone):
    drone.unknown_repos.add(REPO)
    answer = send(drone, payload("create-tag.json", ref_type="commit"), event="create", signature="0" * 64)
    assert (answer.status_code, answer.content) == (200, b"")


def test_a_tag_push_builds_a_tag(drone):
    build = send(drone, payload("push-tag.json")).json()
    assert build["event"] == "tag" and build["ref"] == "refs/tags/v1.2.0" and build["action"] == "create"


def test_skip_ci_answers_null(drone):
    body = payload()
    body["commits"][0]["message"] = "Typo [SKIP CI]\n"
    answer = send(drone, body)
    assert (answer.status_code, answer.content) == (200, b"null\n") and drone.builds == {}


@pytest.mark.parametrize("action, status, built", [
    ("opened", 200, True), ("synchronized", 200, True), ("closed", 204, False), ("reopened", 200, False),
    ("edited", 200, False),
])
def test_pull_requests(drone, action, status, built):
    pull = {"number": 7, "title": "Add /version", "body": "", "head": {"ref": "feature", "sha": "c" * 40},
            "base": {"ref": "main", "sha": "d" * 40}}
    answer = send(drone, payload(action=action, number=7, pull_request=pull), event="pull_request")
    assert answer.status_code == status
    if built:
        build = answer.json()
        assert build["ref"] == "refs/pull/7/head" and build["after"] == "c" * 40 and build["action"] == action
    else:
        assert answer.content == b"" and drone.builds == {}


def test_a_commit_the_trigger_fails_on_gets_writeerrors_answer(drone):
    broken = payload(after="e" * 40)
    drone.fail_commits["e" * 40] = (500, "Not Found")  # no .drone.yml at that commit
    answer = send(drone, broken)
    assert (answer.status_code, answer.content) == (500, b'{"message":"Not Found"}\n')
    assert drone.builds == {} and drone.deliveries == []
    assert send(drone, payload()).json()["number"] == 1


def test_a_configuration_that_does_not_parse_is_a_build_in_error(drone):
    drone.yaml_errors["e" * 40] = "yaml: line 3: mapping values are not allowed in this context"
    build = send(drone, payload(after="e" * 40)).json()
    assert build["status"] == "error" and build["error"].startswith("yaml: line 3")
    assert drone.builds[REPO] == [build]


@pytest.mark.parametrize("status", [502, 503])
def test_fail_all_answers_every_hook(drone, status):
    drone.fail_all = (status, "upstream connect error")
    for event in ("push", "create", "repository"):
        answer = send(drone, payload(), event=event)
        assert (answer.status_code, answer.json()) == (status, {"message": "upstream connect error"})
    assert drone.deliveries == [] and drone.builds == {}


@pytest.fixture
def thirty_builds(drone):
    for n in range(30):
        send(drone, payload(after=f"{n + 1:040x}"))
    return drone


@pytest.mark.parametrize("query, numbers", [
    ({}, range(30, 5, -1)),  # 25 a page by default, newest first
    ({"page": "2"}, range(5, 0, -1)),
    ({"per_page": "100"}, range(30, 0, -1)),
    ({"per_page": "101"}, range(30, 5, -1)),  # over the cap: the default, not 100
    ({"per_page": "0"}, range(30, 5, -1)), ({"per_page": "ten"}, range(30, 5, -1)),
    ({"per_page": "10", "page": "3"}, range(10, 0, -1)),
    ({"per_page": "10", "page": "4"}, []),
    ({"per_page": "10", "page": "-1"}, range(30, 20, -1)), ({"page": "x"}, range(30, 5, -1)),
    ({"branch": "main", "per_page": "3"}, range(30, 27, -1)), ({"branch": "other"}, []),
])
def test_builds_are_paged_as_drone_pages_them(thirty_builds, query, numbers):
    answer = api(thirty_builds, "GET", f"/repos/{REPO}/builds", params=query)
    assert answer.status_code == 200 and [b["number"] for b in answer.json()] == list(numbers)


def test_an_unknown_repository_has_no_builds_for_a_user(drone):
    drone.unknown_repos.add("team/new")
    answer = api(drone, "GET", "/repos/team/new/builds")
    assert (answer.status_code, answer.content) == (404, b'{"message":"Not Found"}\n')
    assert api(drone, "GET", "/repos/team/other/builds").content == b"[]\n"


def test_a_new_repository_is_synced_then_activated_then_built(drone):
    drone.unknown_repos.add("our-task/new")
    body = payload()
    body["repository"] = {**body["repository"], "name": "new"}
    assert api(drone, "POST", "/repos/our-task/new").status_code == 404  # Drone has not synced it yet
    assert api(drone, "POST", "/user/repos").status_code == 200 and drone.syncs == 1
    assert api(drone, "POST", "/user/repos", params={"async": "true"}).status_code == 204
    # Synced but never activated: no signer, so the hook still names an unknown repository.
    assert send(drone, body).json() == {"message": "Cannot find repository"}
    activated = api(drone, "POST", "/repos/our-task/new")
    assert activated.status_code == 200 and activated.json()["active"] and drone.activated == ["our-task/new"]
    assert send(drone, body).json()["number"] == 1


def test_json_is_written_as_gos_encoder_writes_it():
    assert go_json({"message": "<a> & b", "n": None}) == b'{"message":"\\u003ca\\u003e \\u0026 b","n":null}\n'
