"""The fake Kubernetes API answers as kube-apiserver 1.20 does where the deploy and verify plugins
could tell the difference: dry runs, namespaces, selectors, watch history, and how a rollback
converges. Spoken to over plain HTTP, as any client would."""

from __future__ import annotations

import json
import time

import pytest
import requests

from drone_kit.rollouts.rules import rollout_complete
from tests.fakes.kube_api import JSON_PATCH, STRATEGIC, FakeCluster
from tests.rollouts.recordings import load, renamed

DEPLOYMENTS, PODS = "/apis/apps/v1/namespaces/{ns}/deployments", "/api/v1/namespaces/{ns}/pods"
NEW_IMAGE = "127.0.0.1:5000/demo/web:v2"


@pytest.fixture
def cluster_for():
    clusters = []

    def make(rows, **options) -> FakeCluster:
        cluster = FakeCluster(load(rows) if isinstance(rows, str) else rows, **options)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.close()


def get(cluster: FakeCluster, path: str, ns: str = "demo", **params) -> requests.Response:
    return requests.get(cluster.url + path.format(ns=ns), params=params, timeout=5)


def patch(cluster: FakeCluster, body, content_type: str, ns: str = "demo", **params) -> requests.Response:
    return requests.patch(cluster.url + DEPLOYMENTS.format(ns=ns) + "/web", params=params, data=json.dumps(body),
                          headers={"Content-Type": content_type}, timeout=5)


def watch(cluster: FakeCluster, path: str, seconds: float, ns: str = "demo", **params) -> list[tuple[float, dict]]:
    """The events of one watch that the server ends after `seconds`, each with when it arrived."""
    response = requests.get(cluster.url + path.format(ns=ns), params={"watch": "true", "timeoutSeconds": seconds,
                                                                      **params}, stream=True, timeout=seconds + 5)
    return [(time.monotonic(), json.loads(line)) for line in response.iter_lines() if line]


def names(objects: list[dict]) -> list[str]:
    return sorted(o["metadata"]["name"] for o in objects)


def image_patch(image: str = NEW_IMAGE) -> dict:
    return {"metadata": {"annotations": {"kubernetes.io/change-cause": "test"}},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}


def rollback_patch(generation: int, template: dict) -> list[dict]:
    return [{"op": "test", "path": "/metadata/generation", "value": generation},
            {"op": "replace", "path": "/spec/template", "value": template}]


@pytest.mark.parametrize("content_type", [STRATEGIC, JSON_PATCH])
def test_a_dry_run_answers_the_patched_object_and_changes_nothing(cluster_for, content_type):
    cluster = cluster_for("success")
    before = get(cluster, DEPLOYMENTS + "/web").json()
    listed = get(cluster, PODS).json()
    template = json.loads(json.dumps(before["spec"]["template"]).replace("web:v1", "web:v0"))
    body = image_patch() if content_type == STRATEGIC else rollback_patch(before["metadata"]["generation"], template)
    answer = patch(cluster, body, content_type, dryRun="All")
    assert answer.status_code == 200, answer.text
    dry = answer.json()
    expected = NEW_IMAGE if content_type == STRATEGIC else "127.0.0.1:5000/demo/web:v0"
    assert dry["spec"]["template"]["spec"]["containers"][0]["image"] == expected
    assert dry["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert dry["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]  # nothing was stored
    assert dry["status"] == before["status"]
    time.sleep(0.6)  # a started playback or rollback would have changed the Deployment by now
    assert get(cluster, DEPLOYMENTS + "/web").json() == before
    assert get(cluster, PODS).json() == listed
    assert cluster.started_at is None and not cluster.patches


def test_a_dry_run_value_other_than_all_is_refused(cluster_for):
    cluster = cluster_for("success")
    answer = patch(cluster, image_patch(), STRATEGIC, dryRun="Yes")
    assert answer.status_code == 422 and 'supported values: "All"' in answer.json()["message"]
    assert cluster.started_at is None


def test_a_failed_json_patch_test_is_refused_and_changes_nothing(cluster_for):
    cluster = cluster_for("success")
    before = get(cluster, DEPLOYMENTS + "/web").json()
    answer = patch(cluster, rollback_patch(before["metadata"]["generation"] + 5, before["spec"]["template"]),
                   JSON_PATCH)
    assert answer.status_code == 422
    assert answer.json()["message"] == "testing value /metadata/generation failed: test failed"
    assert get(cluster, DEPLOYMENTS + "/web").json() == before


def test_another_namespace_holds_nothing(cluster_for):
    cluster = cluster_for("success")
    cluster.start()
    missing = get(cluster, DEPLOYMENTS + "/web", ns="other")
    assert missing.status_code == 404
    assert missing.json()["reason"] == "NotFound"
    assert missing.json()["message"] == 'deployments.apps "web" not found'
    pod = names(get(cluster, PODS).json()["items"])[0]
    assert get(cluster, PODS + f"/{pod}", ns="other").json()["message"] == f'pods "{pod}" not found'
    assert get(cluster, PODS + f"/{pod}/log", ns="other").status_code == 404
    for path in (DEPLOYMENTS, "/apis/apps/v1/namespaces/{ns}/replicasets", PODS, "/api/v1/namespaces/{ns}/events"):
        listed = get(cluster, path, ns="other")
        assert listed.status_code == 200 and listed.json()["items"] == [], path
    assert watch(cluster, PODS, 1, ns="other") == []  # while the rollout goes on in demo
    assert patch(cluster, image_patch(), STRATEGIC, ns="other").json()["message"] == 'deployments.apps "web" not found'


def test_a_missing_object_is_named_as_the_api_server_names_it(cluster_for):
    cluster = cluster_for("success")
    assert get(cluster, DEPLOYMENTS + "/nope").json()["message"] == 'deployments.apps "nope" not found'
    assert get(cluster, PODS + "/nope").json()["message"] == 'pods "nope" not found'
    assert get(cluster, PODS + "/nope/log").status_code == 404


def test_label_selectors_filter_lists_and_watches(cluster_for):
    cluster = cluster_for(load("success") + renamed(load("image-pull-missing"), "api"))
    every = names(get(cluster, PODS).json()["items"])
    web, api = [n for n in every if n.startswith("web-")], [n for n in every if n.startswith("api-")]
    assert web and api
    for selector, expected in [("app=web", web), ("app==api", api), ("app!=web", api), ("app in (web, api)", every),
                               ("app notin (web)", api), ("app", every), ("!app", []),
                               ("app=api,pod-template-hash=7b886f546b", [n for n in api if "-7b886f546b-" in n])]:
        assert names(get(cluster, PODS, labelSelector=selector).json()["items"]) == expected, selector
    replicasets = get(cluster, "/apis/apps/v1/namespaces/{ns}/replicasets", labelSelector="app=api").json()["items"]
    assert replicasets and all(rs["metadata"]["labels"]["app"] == "api" for rs in replicasets)
    assert get(cluster, PODS, labelSelector="app in web").status_code == 400
    since = get(cluster, PODS).json()["metadata"]["resourceVersion"]
    cluster.start()
    events = [event for _, event in watch(cluster, PODS, 1.5, labelSelector="app=api", resourceVersion=since)]
    assert events, "the api rollout makes a pod within 0.4 s"
    assert {event["object"]["metadata"]["labels"]["app"] for event in events} == {"api"}


def test_field_selectors_filter_watches_and_unknown_fields_are_refused(cluster_for):
    cluster = cluster_for(load("success") + renamed(load("image-pull-missing"), "api"))
    since = get(cluster, DEPLOYMENTS).json()["metadata"]["resourceVersion"]
    cluster.start()
    events = watch(cluster, DEPLOYMENTS, 1, fieldSelector="metadata.name=api", resourceVersion=since)
    assert events and {event["object"]["metadata"]["name"] for _, event in events} == {"api"}
    refused = get(cluster, DEPLOYMENTS, fieldSelector="spec.paused=true")
    assert refused.status_code == 400 and "is not a known field selector" in refused.json()["message"]


def test_a_watch_without_resource_version_starts_from_the_current_objects(cluster_for):
    cluster = cluster_for("success")
    cluster.start()
    time.sleep(0.5)  # the new ReplicaSet's first pod exists and has changed since it was added
    current = get(cluster, PODS).json()["items"]
    events = [event for _, event in watch(cluster, PODS, 0.2)]
    assert [event["type"] for event in events[:len(current)]] == ["ADDED"] * len(current)
    assert sorted((e["object"] for e in events[:len(current)]), key=lambda o: o["metadata"]["name"]) == sorted(
        current, key=lambda o: o["metadata"]["name"])


def test_a_watch_from_expired_history_gets_410_gone(cluster_for):
    cluster = cluster_for("success")
    since = get(cluster, PODS).json()["metadata"]["resourceVersion"]
    cluster.start()
    time.sleep(0.5)
    cluster.expire_history()
    (_, event), = watch(cluster, PODS, 1, resourceVersion=since)
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert event["object"]["message"].startswith(f"too old resource version: {since} (")
    now = get(cluster, PODS).json()["metadata"]["resourceVersion"]
    assert all(event["type"] != "ERROR" for _, event in watch(cluster, PODS, 0.3, resourceVersion=now))


def test_a_rollback_converges_only_after_the_controller_has_worked(cluster_for):
    # A watcher that took the first MODIFIED event after a rollback for its end would be caught.
    rows = load("crashloop")
    cluster = cluster_for(rows, rollback_seconds=1.0)
    snapshot = next(r.object for r in rows if r.kind == "Deployment" and r.type == "SNAPSHOT")
    generation = patch(cluster, image_patch(cluster.image), STRATEGIC).json()["metadata"]["generation"]
    time.sleep(0.5)  # the crashing ReplicaSet and its pod exist
    since = get(cluster, DEPLOYMENTS).json()["metadata"]["resourceVersion"]
    patched = time.monotonic()
    answer = patch(cluster, rollback_patch(generation, snapshot["spec"]["template"]), JSON_PATCH).json()
    assert answer["metadata"]["generation"] == generation + 1
    assert answer["status"]["observedGeneration"] < generation + 1  # the controller has not seen it yet
    events = watch(cluster, DEPLOYMENTS, 2, resourceVersion=since, fieldSelector="metadata.name=web")
    deployments = [event["object"] for _, event in events]
    assert [rollout_complete(d) for d in deployments] == [False] * (len(deployments) - 1) + [True]
    observed = [d for d in deployments if d["status"].get("observedGeneration") == generation + 1]
    assert not observed[0]["status"].get("updatedReplicas")  # seen, and no pod of it updated yet
    assert events[-1][0] - patched >= 0.95  # converged rollback_seconds after the rollback, not at once
    revision = deployments[-1]["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    old = [rs for rs in get(cluster, "/apis/apps/v1/namespaces/{ns}/replicasets").json()["items"]
           if rs["metadata"]["name"] == "web-7b886f546b"]
    assert old[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == revision


def test_a_rollback_follows_the_recorded_undo(cluster_for):
    rows = load("crash-then-undo")
    cluster = cluster_for(rows)
    snapshot = next(r.object for r in rows if r.kind == "Deployment" and r.type == "SNAPSHOT")
    generation = patch(cluster, image_patch(cluster.image), STRATEGIC).json()["metadata"]["generation"]
    time.sleep(0.5)
    since = get(cluster, DEPLOYMENTS).json()["metadata"]["resourceVersion"]
    answer = patch(cluster, rollback_patch(generation, snapshot["spec"]["template"]), JSON_PATCH).json()
    assert answer["metadata"]["generation"] == generation + 1
    events = watch(cluster, DEPLOYMENTS, 1, resourceVersion=since, fieldSelector="metadata.name=web")
    undo = next(r.t for r in rows if r.type == "UNDO")
    recorded = [r.object for r in rows if r.kind == "Deployment" and r.t >= undo]
    shape = lambda d: (d["metadata"]["generation"], d["status"].get("observedGeneration"),  # noqa: E731
                       d["status"].get("updatedReplicas"))
    assert [shape(event["object"]) for _, event in events] == [shape(d) for d in recorded]
