"""A fake Kubernetes API that plays a recorded rollout back, served over HTTP on loopback.

Built from the API's documented behaviour, kube-apiserver 1.20's source and the recordings in
tests/fixtures/k8s-rollouts: the snapshot is what the cluster holds before the change, all in the
recording's namespace (any other namespace is empty); the PATCH that sets the image starts the
playback (at real speed, or faster with `speed`). A rollback PATCH jumps to the recording's UNDO
when it has one; otherwise the controller observes it at once and the Deployment converges
`rollback_seconds` of playback later. `dryRun=All` checks and answers a patch and changes nothing.
Lists and watches answer as kube-apiserver does: resourceVersions, label and field selectors,
watch streams of JSON lines, 410 Gone as an ERROR event for a resourceVersion older than the
history kept (`expire_history`), Status objects for errors. Faults can be planned per test.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_server import FakeHandler, LoopbackServer
from tests.fakes.kube_patches import json_patch, strategic_merge
from tests.fakes.kube_selectors import selection
from tests.rollouts.recordings import Row

PLURALS = {"deployments": "Deployment", "replicasets": "ReplicaSet", "pods": "Pod", "events": "Event"}
GROUPS = {"deployments": "apps", "replicasets": "apps", "pods": "", "events": ""}
PATH = re.compile(
    r"^/(?:api/v1|apis/apps/v1)/namespaces/(?P<ns>[^/]+)/(?P<plural>deployments|replicasets|pods|events)"
    r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$"
)
REVISION, HASH = "deployment.kubernetes.io/revision", "pod-template-hash"
STRATEGIC, JSON_PATCH = "application/strategic-merge-patch+json", "application/json-patch+json"


@dataclass
class Fault:
    method: str
    plural: str
    status: int
    times: int = 1


@dataclass
class Faults:
    planned: list[Fault] = field(default_factory=list)
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (verb, plural)
    drop_watch_after: dict[str, int] = field(default_factory=dict)  # kind -> events, once
    expire_watch: set[str] = field(default_factory=set)  # kinds whose next resumed watch gets 410


class FakeCluster:
    def __init__(self, rows: list[Row], speed: float = 1.0, logs: dict[str, str] | None = None,
                 rollback_seconds: float = 0.5) -> None:
        rows = sorted(rows, key=lambda r: r.t)  # several recordings may be merged into one cluster
        self.speed = speed
        self.logs = logs or {}
        self.rollback_seconds = rollback_seconds  # playback time a rollback without a recorded UNDO takes
        self.faults = Faults()
        self.requests: list[tuple[str, str, str]] = []  # method, path, content type
        self.patches: list[tuple[str, object]] = []  # the PATCHes meant to change something (not dry runs)
        # The generation a client has seen (the real server's is in force from the PATCH answer on,
        # while the recording shows the controller's view of it a little later).
        self.generations: dict[str, int] = {}
        self.log: list[tuple[int, str, str, dict, dict | None]] = []  # resourceVersion, kind, type, object, before
        self.oldest = 0  # the oldest resourceVersion a watch may resume from
        self.current: dict[str, dict[str, dict]] = {kind: {} for kind in PLURALS.values()}
        self.condition = threading.Condition()
        self.started_at: float | None = None
        self.offset = 0.0
        self.pending = [r for r in rows if r.type != "SNAPSHOT" and r.kind != "Mark"]
        self.converging: list[Row] = []  # the controller's answer to a rollback, played like the recording
        self.undo_at = next((r.t for r in rows if r.kind == "Mark" and r.type == "UNDO"), None)
        self.image = next(r.object["image"] for r in rows if r.kind == "Mark" and r.type == "SET_IMAGE")
        self.namespace = next(r.object["metadata"]["namespace"] for r in rows if r.type == "SNAPSHOT")
        for row in rows:
            if row.type == "SNAPSHOT":
                self._record(row.kind, "ADDED", row.object)
        self._stopped = threading.Event()
        self.server = LoopbackServer(_handler(self))
        threading.Thread(target=self._play, daemon=True).start()

    @property
    def url(self) -> str:
        return self.server.url

    def kubeconfig(self, token: str = "fake-token-5up3r-s3cret") -> str:
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": self.namespace}}],
        })

    def start(self) -> None:
        """Play the recording as if someone else had changed the image (for watch_only)."""
        with self.condition:
            self.started_at = time.monotonic()

    def expire_history(self) -> None:
        """Forget the changes so far, as etcd's compaction and the watch cache's window do: a watch
        from an older resourceVersion gets 410 Gone, and only a new list tells what happened."""
        with self.condition:
            self.oldest = len(self.log)

    def close(self) -> None:
        self._stopped.set()
        with self.condition:
            self.condition.notify_all()
        self.server.stop()

    # --- playback -------------------------------------------------------------------------
    def elapsed(self) -> float:
        return 0.0 if self.started_at is None else (time.monotonic() - self.started_at) * self.speed + self.offset

    def _record(self, kind: str, event_type: str, obj: dict) -> None:
        obj = copy.deepcopy(obj)
        version = len(self.log) + 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(version)
        name = obj["metadata"].get("name", "")
        self.log.append((version, kind, event_type, obj, self.current[kind].get(name)))
        if kind == "Deployment":
            self.generations[name] = max(self.generations.get(name, 0), obj["metadata"].get("generation", 0))
        if event_type == "DELETED":
            self.current[kind].pop(name, None)
        else:
            self.current[kind][name] = obj

    def _play(self) -> None:
        while not self._stopped.is_set():
            with self.condition:
                if self.started_at is not None:
                    now = self.elapsed()
                    due = sorted(_take_due(self.pending, now) + _take_due(self.converging, now), key=lambda r: r.t)
                    for row in due:
                        self._record(row.kind, row.type, row.object)
                    if due:
                        self.condition.notify_all()
            time.sleep(0.005)

    # --- changes ----------------------------------------------------------------------------
    def patch(self, namespace: str, name: str, content_type: str, body, dry_run: bool = False) -> tuple[int, dict]:
        with self.condition:
            if not dry_run:
                self.patches.append((content_type, body))
            deployment = self.current["Deployment"].get(name)
            if deployment is None or deployment["metadata"].get("namespace") != namespace:
                return 404, _not_found("deployments", name)
            live = copy.deepcopy(deployment)
            live["metadata"]["generation"] = self.generations.get(name, live["metadata"]["generation"])
            try:
                if content_type.startswith(STRATEGIC):
                    patched = strategic_merge(live, body)
                elif content_type.startswith(JSON_PATCH):
                    patched = json_patch(live, body)
                else:
                    return 415, _status(415, "UnsupportedMediaType", f"the fake takes no {content_type} patch")
            except ValueError as e:  # as the API server answers a patch that does not apply
                return 422, _status(422, "", str(e))
            patched["status"] = live.get("status", {})  # the API never takes status in a patch of the object
            metadata = patched["metadata"]
            if patched["spec"] != live["spec"] or metadata.get("annotations") != live["metadata"].get("annotations"):
                metadata["generation"] = live["metadata"]["generation"] + 1
            if dry_run:  # answered as it would be stored, with the stored resourceVersion; nothing is stored
                return 200, patched
            if content_type.startswith(STRATEGIC):
                return 200, self._set_image(name)
            return 200, self._roll_back(name, patched)

    def _set_image(self, name: str) -> dict:
        if self.started_at is None:
            self.started_at = time.monotonic()
        changed = next(r.object for r in self.pending
                       if r.kind == "Deployment" and r.object["metadata"]["name"] == name)
        self.generations[name] = changed["metadata"]["generation"]
        return self._with_version(changed)

    def _with_version(self, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(len(self.log))
        return obj

    def _roll_back(self, name: str, patched: dict) -> dict:
        if self.started_at is not None and self.undo_at is not None and self.elapsed() < self.undo_at:
            self.offset += self.undo_at - self.elapsed()  # the recording shows what came of it
            self.pending = [r for r in self.pending if r.t >= self.undo_at]
            undone = next(r.object for r in self.pending
                          if r.kind == "Deployment" and r.object["metadata"]["name"] == name)
            self.generations[name] = undone["metadata"]["generation"]
            return self._with_version(undone)
        if self.started_at is None:
            self.started_at = time.monotonic()
        self._record("Deployment", "MODIFIED", patched)
        self.pending = []  # the rest of the recording is the rollout the rollback undoes
        self.converging = sorted([*self.converging, *self._convergence(name)], key=lambda r: r.t)
        self.condition.notify_all()
        return copy.deepcopy(self.current["Deployment"][name])

    def _convergence(self, name: str) -> list[Row]:
        """What the deployment controller makes of a restored template: the next revision, observed
        at once with no pod updated yet, then the Deployment converged `rollback_seconds` later."""
        deployment, now = self.current["Deployment"][name], self.elapsed()
        revision = str(int(deployment["metadata"].get("annotations", {}).get(REVISION, "0")) + 1)
        rows, replicaset = [], self._replicaset_of(name, deployment["spec"]["template"])
        if replicaset is not None:  # a template that comes back takes its ReplicaSet back, as the new revision
            replicaset = copy.deepcopy(replicaset)
            replicaset["metadata"].setdefault("annotations", {})[REVISION] = revision
            rows.append(Row(now, "ReplicaSet", "MODIFIED", replicaset))
        rs_name = f'ReplicaSet "{replicaset["metadata"]["name"] if replicaset else name}"'
        observed = copy.deepcopy(deployment)
        observed["metadata"].setdefault("annotations", {})[REVISION] = revision
        status = observed["status"] = {k: v for k, v in deployment.get("status", {}).items() if k != "updatedReplicas"}
        status["observedGeneration"] = observed["metadata"]["generation"]
        _set_condition(status, "Progressing", "True", "ReplicaSetUpdated", f"{rs_name} is progressing.")
        converged = copy.deepcopy(observed)
        replicas = observed["spec"].get("replicas", 1)
        status = converged["status"] = {
            "observedGeneration": status["observedGeneration"], "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas, "conditions": status.get("conditions", [])}
        _set_condition(status, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        _set_condition(status, "Progressing", "True", "NewReplicaSetAvailable",
                       f"{rs_name} has successfully progressed.")
        return [*rows, Row(now, "Deployment", "MODIFIED", observed),
                Row(now + self.rollback_seconds, "Deployment", "MODIFIED", converged)]

    def _replicaset_of(self, name: str, template: dict) -> dict | None:
        for replicaset in self.current["ReplicaSet"].values():
            owners = replicaset["metadata"].get("ownerReferences") or []
            theirs = copy.deepcopy(replicaset["spec"]["template"])
            theirs.get("metadata", {}).get("labels", {}).pop(HASH, None)
            if any(o.get("kind") == "Deployment" and o.get("name") == name for o in owners) and theirs == template:
                return replicaset
        return None


def _take_due(rows: list[Row], now: float) -> list[Row]:
    """Remove and return the rows due by `now` (rows are in time order)."""
    count = next((i for i, row in enumerate(rows) if row.t > now), len(rows))
    due = rows[:count]
    del rows[:count]
    return due


def _set_condition(status: dict, kind: str, state: str, reason: str, message: str) -> None:
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    conditions[kind] = {**conditions.get(kind, {}), "type": kind, "status": state, "reason": reason, "message": message}
    status["conditions"] = list(conditions.values())


def _status(code: int, reason: str, message: str, **details: str) -> dict:
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
              "reason": reason, "code": code}
    return {**status, "details": details} if details else status


def _resource(plural: str) -> str:
    return f"{plural}.{GROUPS[plural]}" if GROUPS[plural] else plural


def _not_found(plural: str, name: str) -> dict:
    return _status(404, "NotFound", f'{_resource(plural)} "{name}" not found', name=name, group=GROUPS[plural],
                   kind=plural)


def _as_watched(entry: tuple[int, str, str, dict, dict | None],
                selected: Callable[[dict | None], bool]) -> tuple[str, dict] | None:
    """The event a selective watch gets for a change, as the API server's watch cache makes it: an
    object that comes into the selection is ADDED, one that leaves it is DELETED (as it was)."""
    version, _, event_type, obj, before = entry
    if event_type == "DELETED":
        return ("DELETED", obj) if selected(before if before is not None else obj) else None
    now, then = selected(obj), selected(before)
    if now:
        return ("MODIFIED" if then else "ADDED"), obj
    if then:
        gone = copy.deepcopy(before)
        gone["metadata"]["resourceVersion"] = str(version)
        return "DELETED", gone
    return None


def _handler(cluster: FakeCluster):
    class Handler(FakeHandler):
        def _fault(self, verb: str, plural: str, name: str, namespace: str) -> bool:
            if (verb, plural) in cluster.faults.forbidden:
                group = "" if plural in ("pods", "events") else "apps"
                what = f'{plural}.{group} "{name}"' if name and group else f'{plural} "{name}"' if name else plural
                self.answer(403, _status(403, "Forbidden", f'{what} is forbidden: User "system:serviceaccount:'
                                         f'drone:default" cannot {verb} resource "{plural}" in API group "{group}" '
                                         f'in the namespace "{namespace}"'))
                return True
            for fault in cluster.faults.planned:
                if fault.method == self.command and fault.plural == plural and fault.times > 0:
                    fault.times -= 1
                    reasons = {409: "Conflict", 500: "InternalError", 503: "ServiceUnavailable", 429: "TooManyRequests"}
                    reason = reasons.get(fault.status, "Unknown")
                    self.answer(fault.status, _status(fault.status, reason, "planned fault"))
                    return True
            return False

        def do_GET(self) -> None:
            self._route()

        def do_PATCH(self) -> None:
            self._route()

        def _route(self) -> None:
            url = urlparse(self.path)
            queries = parse_qs(url.query)
            query = {k: v[-1] for k, v in queries.items()}
            raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            cluster.requests.append((self.command, self.path, self.headers.get("Content-Type", "")))
            match = PATH.match(url.path)
            if not match:
                return self.answer(404, _status(404, "NotFound", f"no route {url.path}"))
            namespace, plural, name, sub = match["ns"], match["plural"], match["name"], match["sub"]
            kind = PLURALS[plural]
            verb = {"PATCH": "patch"}.get(self.command) or ("watch" if query.get("watch") == "true" else
                                                           "get" if name else "list")
            if self._fault(verb, f"{plural}/log" if sub else plural, name or "", namespace):
                return
            if self.command == "PATCH":
                return self._patch(namespace, plural, name, queries.get("dryRun", []), raw_body)
            if name:
                with cluster.condition:
                    obj = cluster.current[kind].get(name)
                if obj is None or obj["metadata"].get("namespace") != namespace:
                    return self.answer(404, _not_found(plural, name))
                if sub != "log":
                    return self.answer(200, obj)
                text = cluster.logs.get(name, "".join(f"{name} log line {i}\n" for i in range(1, 31)))
                tail = int(query.get("tailLines", 0) or 0)
                return self.answer(200, "".join(text.splitlines(True)[-tail:] if tail else text), "text/plain")
            try:
                selected = selection(kind, namespace, query)
            except ValueError as e:
                return self.answer(400, _status(400, "BadRequest", str(e)))
            if query.get("watch") == "true":
                return self._watch(kind, int(query.get("resourceVersion") or 0), selected,
                                   float(query.get("timeoutSeconds") or 60))
            with cluster.condition:
                items = [o for o in cluster.current[kind].values() if selected(o)]
                version = str(len(cluster.log))
            self.answer(200, {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {"resourceVersion": version},
                              "items": items})

        def _patch(self, namespace: str, plural: str, name: str | None, dry_run: list[str], raw_body: bytes) -> None:
            if plural != "deployments" or not name:
                return self.answer(405, _status(405, "MethodNotAllowed", "the fake patches only deployments"))
            if any(value != "All" for value in dry_run):
                return self.answer(422, _status(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: dryRun: '
                                                f'Unsupported value: {dry_run}: supported values: "All"'))
            content_type = self.headers.get("Content-Type", "")
            self.answer(*cluster.patch(namespace, name, content_type, json.loads(raw_body), dry_run=bool(dry_run)))

        def _watch(self, kind: str, since: int, selected: Callable[[dict | None], bool], timeout: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with cluster.condition:
                if since and (since < cluster.oldest or kind in cluster.faults.expire_watch):
                    cluster.faults.expire_watch.discard(kind)
                    self._chunk({"type": "ERROR", "object": _status(
                        410, "Expired", f"too old resource version: {since} ({max(since, cluster.oldest)})")})
                    return self._end()
                # No resourceVersion: the current objects as ADDED, then what changes.
                queued = [] if since else [("ADDED", o) for o in cluster.current[kind].values() if selected(o)]
                position = since or len(cluster.log)
            drop_after = cluster.faults.drop_watch_after.pop(kind, None)
            sent, deadline = 0, time.monotonic() + timeout
            while time.monotonic() < deadline and not cluster._stopped.is_set():
                with cluster.condition:
                    fresh = [e for e in cluster.log if e[0] > position]
                    if not fresh and not queued:
                        cluster.condition.wait(0.2)
                        continue
                for entry in fresh:
                    position = entry[0]
                    watched = _as_watched(entry, selected) if entry[1] == kind else None
                    queued += [watched] if watched else []
                for event_type, obj in queued:
                    if drop_after is not None and sent >= drop_after:
                        self.close_connection = True
                        return  # the connection drops mid-stream, without a closing chunk
                    if not self._chunk({"type": event_type, "object": obj}):
                        return
                    sent += 1
                queued = []
            self._end()

        def _chunk(self, event: dict) -> bool:
            data = json.dumps(event).encode() + b"\n"
            try:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                return True
            except OSError:
                return False

        def _end(self) -> None:
            try:
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass

    return Handler
