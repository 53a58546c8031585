"""follow(): list-then-watch that relists on 410 Gone and reports what went missing in the gap,
on its own (a scripted Kube) and through the real kubernetes client against the fake API."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import urllib3

from drone_kit.clients.kube import Gone, Kube, follow
from drone_kit.clients.kubeconfig import api_client
from drone_kit.rollouts.rules import RolloutState
from tests.fakes.kube_api import FakeCluster
from tests.rollouts.recordings import load


def pod(name: str, version: int, phase: str = "Running") -> dict:
    return {"metadata": {"name": name, "resourceVersion": str(version)}, "status": {"phase": phase}}


class ScriptedKube:
    """Answers follow's lists and watches from scripts: a watch step is a list of events, or an
    exception raised when it is reached. The watch after the last step stops the follow."""

    def __init__(self, lists: list[tuple[list[dict], str]], watches: list[list], stop: threading.Event) -> None:
        self.lists, self.watches, self.stop = lists, watches, stop
        self.logged: list[str] = []
        self.watched_from: list[str] = []

    def log(self, line: str) -> None:
        self.logged.append(line)

    def list(self, kind: str, namespace: str, **selectors) -> tuple[list[dict], str]:
        return self.lists.pop(0)

    def watch_once(self, kind: str, namespace: str, resource_version: str, **selectors) -> Iterator[dict]:
        self.watched_from.append(resource_version)
        if not self.watches:
            self.stop.set()
            return
        for step in self.watches.pop(0):
            if isinstance(step, BaseException):
                raise step
            yield step


def run(lists, watches) -> tuple[list[tuple[str, dict]], ScriptedKube]:
    stop = threading.Event()
    kube = ScriptedKube(lists, watches, stop)
    return list(follow(kube, "Pod", "demo", stop, sleep=lambda seconds: None)), kube


def test_a_relist_reports_what_went_missing_as_deleted_in_its_last_known_state_first():
    a1, b1, c1, a4, c5, d6 = pod("a", 1), pod("b", 2), pod("c", 3), pod("a", 4, "Failed"), pod("c", 5), pod("d", 6)
    events, kube = run(
        lists=[([a1, b1, c1], "3"), ([b1], "9")],
        watches=[[{"type": "MODIFIED", "object": a4}, {"type": "DELETED", "object": c5},
                  {"type": "ADDED", "object": d6}, Gone()]],
    )
    assert events == [
        ("ADDED", a1), ("ADDED", b1), ("ADDED", c1),
        ("MODIFIED", a4), ("DELETED", c5), ("ADDED", d6),
        ("DELETED", a4), ("DELETED", d6),  # gone in the gap: once each, as last seen; c was reported already
        ("ADDED", b1),
    ]
    assert "kubernetes: watch of pods expired (410 Gone); listing again" in kube.logged


def test_an_object_listed_again_after_a_relist_is_not_deleted():
    a1, a7 = pod("a", 1), pod("a", 7)
    events, _ = run(lists=[([a1], "1"), ([a7], "7")], watches=[[Gone()]])
    assert events == [("ADDED", a1), ("ADDED", a7)]


def test_a_dropped_connection_resumes_without_a_relist_or_made_up_deletions():
    a1, b2 = pod("a", 1), pod("b", 2)
    events, kube = run(lists=[([a1], "1")],
                       watches=[[{"type": "ADDED", "object": b2}, urllib3.exceptions.ProtocolError("dropped")]])
    assert events == [("ADDED", a1), ("ADDED", b2)]
    assert kube.watched_from == ["1", "2"]  # listed once, resumed where it was


def test_each_follow_remembers_only_what_it_reported():
    a1 = pod("a", 1)
    run(lists=[([a1], "1")], watches=[])
    events, _ = run(lists=[([], "2"), ([], "3")], watches=[[Gone()]])
    assert events == []


def test_a_pod_deleted_while_the_watch_was_away_is_gone_after_the_relist():
    # The recorded rollout deletes an old, terminating pod at 0.74 s. The pod watch drops just
    # before; while the watcher is away the deletion happens and the server's history of that time
    # expires, so the resumed watch gets 410 Gone and only a new list can tell.
    rows = load("image-pull-missing")
    deleted_at, doomed = next((r.t, r.object["metadata"]["name"]) for r in rows if r.kind == "Pod" and
                              r.type == "DELETED")
    cluster = FakeCluster(rows)
    cluster.faults.drop_watch_after["Pod"] = 1
    lines: list[str] = []
    kube = Kube(api_client(cluster.kubeconfig(), None, {}), lines.append)
    stop, events = threading.Event(), queue.Queue()

    def away(seconds: float) -> None:
        while doomed in cluster.current["Pod"] and cluster.elapsed() < deleted_at + 5:
            time.sleep(0.01)
        cluster.expire_history()

    def watcher() -> None:
        for event in follow(kube, "Pod", "demo", stop, sleep=away, label_selector="app=web"):
            events.put(event)

    try:
        threading.Thread(target=watcher, daemon=True).start()
        cluster.start()
        seen: list[tuple[str, dict]] = []
        while True:  # until the relist after a deletion is through
            seen.append(events.get(timeout=10))
            types = [event_type for event_type, _ in seen]
            if "DELETED" in types and types[types.index("DELETED"):].count("ADDED") == len(cluster.current["Pod"]):
                break
        stop.set()
    finally:
        cluster.close()
    assert any(line.startswith("kubernetes: watch of pods interrupted") for line in lines)
    assert "kubernetes: watch of pods expired (410 Gone); listing again" in lines
    deletions = [(i, obj) for i, (t, obj) in enumerate(seen) if t == "DELETED"]
    assert [obj["metadata"]["name"] for _, obj in deletions] == [doomed]
    position, deleted = deletions[0]
    last_reported = [obj for _, obj in seen[:position] if obj["metadata"]["name"] == doomed][-1]
    assert deleted == last_reported
    relisted = seen[position + 1:]
    assert {t for t, _ in relisted} == {"ADDED"}
    assert sorted(o["metadata"]["name"] for _, o in relisted) == sorted(cluster.current["Pod"])
    state = RolloutState("web")
    for event_type, obj in seen:
        state.apply("Pod", event_type, obj, 0)
    assert sorted(state.pods) == sorted(cluster.current["Pod"])  # the consumer holds no pod that is gone
