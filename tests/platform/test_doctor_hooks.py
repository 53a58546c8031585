"""`doctor`'s hooks check on plain data: Gitea's hooks and branch heads, the shim's record of the
hooks it received and its count of bad signatures, and the cluster's view of Gitea and the shim.
Each way a hook fails is put in alone and must be the one thing found, with its fix."""

from __future__ import annotations

import copy
import time

import pytest

from drone_kit.platform.doctor import diagnose
from drone_kit.platform.doctor_hooks import CLOCK_SKEW, HOOK_MARGIN, IN_FLIGHT, hooks
from drone_kit.platform.doctor_hooks_view import HooksView, WiredRepo
from drone_kit.platform.doctor_view import ClusterView
from drone_kit.platform.findings import FAILED, OK, WARNING, Finding
from tests.platform.test_doctor import CONFIG, SECRETS, healthy, meta

NOW = 1_800_000_000.0
REPO = "our-task/app"
GITEA = "http://192.168.1.201:3000/"
PAGE = "http://192.168.1.201:3000/our-task/app/settings/hooks/4"
SHA = "9f8e7d6c" * 5
SHIM_SERVICE = {"kind": "Service", "metadata": meta("shim", "drone-kit"),
                "spec": {"type": "ClusterIP", "clusterIP": "10.43.12.7"}}


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def shim_hook(hook_id: int = 4, created: float = NOW - 7 * 86400, **changes: object) -> dict:
    return {"id": hook_id, "type": "gitea", "active": True, "events": ["create", "delete", "push", "pull_request"],
            "config": {"url": "http://shim.drone-kit.svc/hook", "content_type": "json"},
            "created_at": iso(created), **changes}


def head(dated: float, branch: str = "main") -> dict:
    return {"name": branch, "commit": {"id": SHA, "message": "Fix the probe\n", "timestamp": iso(dated)}}


def record(hook_id: int, received: float, status: str = "delivered", error: str = "", repo: str = REPO,
           event: str = "push", attempts: int = 1) -> dict:
    return {"id": hook_id, "delivery": f"uuid-{hook_id}", "repo": repo, "event": event, "status": status,
            "attempts": attempts, "received": received, "finished": received + 1, "error": error}


def seen(*records: dict, dated: float = NOW - 3600, **changes: object) -> HooksView:
    """A wired our-task/app pushed an hour ago, whose push the shim recorded and Drone took."""
    fields: dict = {"read_at": NOW, "gitea_url": GITEA, "repos": [WiredRepo(REPO, [shim_hook()], head(dated))],
                    "deliveries": list(records) or [record(7, dated + 2)], "covered_since": NOW - 86400,
                    "signature_refusals": 0, **changes}
    return HooksView(**fields)


def cluster(host_list: str | None = "private") -> ClusterView:
    view = healthy()
    view.services.append(copy.deepcopy(SHIM_SERVICE))
    env = view.deployments[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    env[:] = [e for e in env if "ALLOWED_HOST_LIST" not in e["name"]]
    if host_list is not None:
        env.append({"name": "GITEA__webhook__ALLOWED_HOST_LIST", "value": host_list})
    return view


def found(hooks_view: HooksView, view: ClusterView | None = None) -> list[Finding]:
    return hooks(view or cluster(), hooks_view)


def only(hooks_view: HooksView, status: str = FAILED, view: ClusterView | None = None) -> Finding:
    findings = found(hooks_view, view)
    assert [f.status for f in findings] == [status], findings
    return findings[0]


def test_a_wired_repository_whose_pushes_reach_drone_is_ok():
    assert found(seen()) == [Finding("hooks", OK, "1 repository wired to Drone: pushes reach the shim, and Drone "
                                                  "took the latest hook of each")]


@pytest.mark.parametrize("hooks_view, message", [
    (HooksView(NOW, GITEA, wired=False), "Gitea and Drone are not wired yet (drone_kit wire): no hooks to check"),
    (HooksView(NOW, GITEA, deliveries=[]), "no repository has a hook to the shim yet (drone_kit wire repo OWNER/NAME)"),
])
def test_nothing_wired_is_nothing_to_check(hooks_view, message):
    assert found(hooks_view) == [Finding("hooks", OK, message)]


def test_a_push_gitea_did_not_deliver_is_explained_by_allowed_host_list():
    finding = only(seen(record(5, NOW - 90_000), dated=NOW - 600), view=cluster(host_list=None))
    assert finding.message == (f"{REPO}: 9f8e7d6c on main (dated {utc(NOW - 600)}) has no hook in the shim's "
                               "record: Gitea did not deliver its push, or the shim refused it")
    assert finding.fix[0] == ("Gitea's ALLOWED_HOST_LIST 'external' refuses the shim at 10.43.12.7 "
                              "(shim.drone-kit.svc): set GITEA__webhook__ALLOWED_HOST_LIST=private and "
                              "GITEA__security__ALLOWED_HOST_LIST=private in Deployment gitea/gitea's env: "
                              "drone_kit bootstrap --only gitea")
    assert finding.fix[1] == f"Gitea keeps what happened under the hook's Recent Deliveries: {PAGE}"


def test_a_push_the_shim_refused_for_its_signature_is_fixed_by_activating_again():
    finding = only(seen(dated=NOW - 600, deliveries=[], signature_refusals=3))
    assert finding.fix[:3] == (
        "the shim refused 3 hooks with a bad signature since it started: our-task/app's hook is likely signed "
        "with another secret than the shim's",
        "drone_kit wire  (Drone's DRONE_FEATURE_SERVER_PROXY_SECRET becomes the shim's signer)",
        f"delete our-task/app's hook to the shim in Gitea ({PAGE}), then drone_kit wire repo our-task/app: "
        "activated again, Drone makes the hook anew, signed with that signer")


def test_with_no_clue_the_fix_points_at_gitea_s_recent_deliveries():
    finding = only(seen(dated=NOW - 600, deliveries=[]))
    assert finding.fix[0] == f"Gitea keeps what happened under the hook's Recent Deliveries: {PAGE}"
    assert "'no such host': Gitea's pod cannot resolve shim.drone-kit.svc" in finding.fix[1]


@pytest.mark.parametrize("why, hooks_view", [
    ("pushed before its hook was made", seen(deliveries=[], dated=NOW - 7 * 86400 + HOOK_MARGIN - 1)),
    ("pushed a moment ago: on its way", seen(deliveries=[], dated=NOW - IN_FLIGHT + 1)),
    ("dated ahead of our clock", seen(deliveries=[], dated=NOW + 3600)),
    ("older than the record read", seen(deliveries=[], dated=NOW - 86400 + CLOCK_SKEW - 1)),
    ("a hook came in within the clocks' skew", seen(record(9, NOW - 600 - CLOCK_SKEW + 1), dated=NOW - 600)),
    ("an empty repository", seen(deliveries=[], repos=[WiredRepo(REPO, [shim_hook()], None)])),
    ("a hook without its creation time", seen(deliveries=[], repos=[WiredRepo(REPO, [shim_hook(created_at="")],
                                                                              head(NOW - 600))])),
    ("the record's repository in other case", seen(record(9, NOW - 590, repo="Our-Task/App"), dated=NOW - 600)),
])
def test_a_push_is_not_called_undelivered_when_the_evidence_cannot_say_so(why, hooks_view):
    assert [f.status for f in found(hooks_view)] == [OK], why


@pytest.mark.parametrize("latest, status, message, fix", [
    (record(8, NOW - 3000, "failed", 'HTTP 400: {"message":"Cannot find repository"}'), FAILED,
     "our-task/app: Drone did not take its latest hook 8 (push, {when}): Drone answered HTTP 400 Cannot find "
     "repository: it does not know our-task/app, or has never activated it",
     ("drone_kit wire repo our-task/app",
      "then send it to Drone again: kubectl -n drone-kit exec deploy/shim -- drone_kit shim replay 8")),
    (record(8, NOW - 3000, "pending", "HTTP 502: Bad Gateway", attempts=4), WARNING,
     "our-task/app: hook 8 (push, {when}) is still waiting for Drone after 4 attempts: Drone answered HTTP 502 "
     "Bad Gateway: it could not start the build",
     ("kubectl -n drone logs deploy/drone --tail 50  (a our-task/app without .drone.yml on that commit, or the "
      "admin's Gitea login expired: log in to Drone once more)",
      "the shim keeps trying for an hour (--retry-age), then marks it failed")),
    (record(8, NOW - 3000, "ignored", "the repository is disabled in Drone (auto_activate is off)"), WARNING,
     "our-task/app: hook 8 (push, {when}): Drone has our-task/app disabled: it takes its hooks and builds nothing",
     ("drone_kit wire repo our-task/app  (activates it again)",)),
])
def test_how_drone_answered_the_latest_hook(latest, status, message, fix):
    finding = only(seen(latest), status)
    assert finding.message == message.format(when=utc(NOW - 3000))
    assert finding.fix == fix


def test_a_hook_that_just_arrived_is_not_a_problem():
    assert found(seen(record(8, NOW - 5, "pending", attempts=0)))[0].status == OK


def test_earlier_failures_never_sent_again_are_a_warning():
    finding = only(seen(record(9, NOW - 3500), record(8, NOW - 5000, "failed", "Drone unreachable: ConnectTimeout"),
                        record(6, NOW - 6000, "failed", "Drone unreachable: ConnectTimeout")), WARNING)
    assert finding.message.startswith("our-task/app: earlier hooks failed for good and were never sent again "
                                      "(2; the last, hook 8 (push, ")
    assert finding.fix == ("kubectl -n drone-kit exec deploy/shim -- drone_kit shim replay --failed  (only if those "
                           "pushes should still build: each one builds again)",)


@pytest.mark.parametrize("repo_hooks, message, fix", [
    ([shim_hook(4), shim_hook(5)], "our-task/app: Gitea has 2 hooks to the shim: every push would build 2 times",
     "drone_kit wire repo our-task/app  (activated again, Drone leaves one live hook)"),
    ([shim_hook(4, active=False)], "our-task/app: Gitea's hook to the shim is inactive",
     "drone_kit wire repo our-task/app  (activated again, Drone leaves one live hook)"),
    ([shim_hook(4, events=["create"])], "our-task/app: Gitea's hook to the shim is not sent on push",
     f"delete the hook in Gitea ({PAGE}), then drone_kit wire repo our-task/app"),
])
def test_a_hook_gitea_holds_wrongly(repo_hooks, message, fix):
    finding = only(seen(repos=[WiredRepo(REPO, repo_hooks, head(NOW - 3600))]))
    assert (finding.message, finding.fix) == (message, (fix,))


def test_without_gitea_the_shim_s_record_is_still_checked():
    findings = found(seen(record(8, NOW - 3000, "failed", 'HTTP 400: {"message":"Cannot find repository"}'),
                          gitea_error="Gitea at http://192.168.1.201:3000 is unreachable (ConnectTimeout) while "
                                      "trying to list the user's repositories"))
    assert [(f.status, f.message.split(":")[0]) for f in findings] == [(WARNING, "Gitea could not say which "
                                                                                 "repositories are wired"),
                                                                       (FAILED, REPO)]


def test_a_shim_that_cannot_be_read_is_a_warning():
    finding = only(seen(deliveries=None, shim_error="GET /deliveries: HTTP 503: no endpoints available"), WARNING)
    assert finding.message == ("the shim's record of hooks could not be read (GET /deliveries: HTTP 503: no "
                               "endpoints available)")


@pytest.mark.parametrize("host_list, refused", [
    (None, True), ("external", True), ("external,loopback", True), ("192.168.1.0/24", True),
    ("private", False), ("*", False), ("10.43.0.0/16", False), ("10.43.12.7", False), ("*.svc", False),
    ("external,shim.drone-kit.svc", False),
])
def test_allowed_host_list_is_checked_against_the_shim_even_without_a_push(host_list, refused):
    findings = found(seen(), cluster(host_list))
    if refused:
        assert [(f.status, f.message) for f in findings] == [(FAILED, "Gitea will not deliver hooks to the shim")]
        assert "refuses the shim at 10.43.12.7" in findings[0].fix[0]
    else:
        assert [f.status for f in findings] == [OK]


def test_signatures_refused_with_no_repository_to_blame_are_a_warning():
    finding = only(seen(signature_refusals=2), WARNING)
    assert finding.message == ("the shim refused 2 hooks with a bad signature since it started: a hook in Gitea is "
                               "signed with another secret than the shim's")
    assert finding.fix[-1].startswith("which repository:")


def test_doctor_checks_hooks_last_and_only_when_they_were_read():
    assert "hooks" not in [f.check for f in diagnose(cluster(), CONFIG, SECRETS)]
    findings = diagnose(cluster(), CONFIG, SECRETS, seen())
    assert findings[-1].check == "hooks" and all(f.status == OK for f in findings)


def test_the_check_does_not_modify_what_it_reads():
    hooks_view, view = seen(record(8, NOW - 3000, "failed", "HTTP 500: x")), cluster()
    before = copy.deepcopy((hooks_view, view))
    hooks(view, hooks_view)
    assert (hooks_view, view) == before
