"""A fake Kubernetes API that plays a recorded rollout back, served over HTTP on loopback.

Built from the API's documented behaviour and the recordings in tests/fixtures/k8s-rollouts:
the snapshot is what the cluster holds before the change; the PATCH that sets the image starts
the playback (at real speed, or faster with `speed`); a rollback PATCH jumps to the recording's
UNDO when it has one, and otherwise converges the Deployment back to its old template. Lists and
watches answer as kube-apiserver does: resourceVersions, watch streams of JSON lines, 410 Gone
as an ERROR event, Status objects for errors. Faults can be planned per test.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_server import FakeHandler, LoopbackServer
from tests.rollouts.recordings import Row

PLURALS = {"deployments": "Deployment", "replicasets": "ReplicaSet", "pods": "Pod", "events": "Event"}
PATH = re.compile(
    r"^/(?:api/v1|apis/apps/v1)/namespaces/(?P<ns>[^/]+)/(?P<plural>deployments|replicasets|pods|events)"
    r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$"
)


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
    def __init__(self, rows: list[Row], speed: float = 1.0, logs: dict[str, str] | None = None) -> None:
        rows = sorted(rows, key=lambda r: r.t)  # several recordings may be merged into one cluster
        self.speed = speed
        self.logs = logs or {}
        self.faults = Faults()
        self.requests: list[tuple[str, str, str]] = []  # method, path, content type
        self.patches: list[tuple[str, object]] = []
        # The generation a client has seen (the real server's is in force from the PATCH answer on,
        # while the recording shows the controller's view of it a little later).
        self.generations: dict[str, int] = {}
        self.log: list[tuple[int, str, str, dict]] = []  # resourceVersion, kind, type, object
        self.current: dict[str, dict[str, dict]] = {kind: {} for kind in PLURALS.values()}
        self.condition = threading.Condition()
        self.started_at: float | None = None
        self.offset = 0.0
        self.pending = [r for r in rows if r.type != "SNAPSHOT" and r.kind != "Mark"]
        self.undo_at = next((r.t for r in rows if r.kind == "Mark" and r.type == "UNDO"), None)
        self.image = next(r.object["image"] for r in rows if r.kind == "Mark" and r.type == "SET_IMAGE")
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
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": "demo"}}],
        })

    def start(self) -> None:
        """Play the recording as if someone else had changed the image (for watch_only)."""
        with self.condition:
            self.started_at = time.monotonic()

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
        self.log.append((version, kind, event_type, obj))
        name = obj["metadata"].get("name", "")
        if kind == "Deployment":
            self.generations[name] = max(self.generations.get(name, 0), obj["metadata"].get("generation", 0))
        if event_type == "DELETED":
            self.current[kind].pop(name, None)
        else:
            self.current[kind][name] = obj

    def _play(self) -> None:
        while not self._stopped.is_set():
            with self.condition:
                due = [r for r in self.pending if self.started_at is not None and r.t <= self.elapsed()]
                for row in due:
                    self._record(row.kind, row.type, row.object)
                self.pending = [r for r in self.pending if r not in due]
                if due:
                    self.condition.notify_all()
            time.sleep(0.005)

    def patch(self, name: str, content_type: str, body) -> tuple[int, dict]:
        with self.condition:
            self.patches.append((content_type, body))
            deployment = self.current["Deployment"].get(name)
            if deployment is None:
                return 404, _status(404, "NotFound", f'deployments.apps "{name}" not found')
            if content_type.startswith("application/strategic-merge-patch"):
                if self.started_at is None:
                    self.started_at = time.monotonic()
                changed = next(r.object for r in self.pending
                               if r.kind == "Deployment" and r.object["metadata"]["name"] == name)
                self.generations[name] = changed["metadata"]["generation"]
                return 200, self._with_version(changed)
            if content_type.startswith("application/json-patch"):
                generation = self.generations.get(name, deployment["metadata"]["generation"])
                failed_test = next((op for op in body if op["op"] == "test" and op["path"] == "/metadata/generation"
                                    and op["value"] != generation), None)
                if failed_test:  # as the API server answers a failed JSON patch test
                    return 422, _status(422, "", "testing value /metadata/generation failed: test failed")
                return 200, self._rollback(deployment, body)
            return 422, _status(422, "Invalid", f"unexpected patch {content_type}")

    def _with_version(self, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(len(self.log))
        return obj

    def _rollback(self, deployment: dict, body: list) -> dict:
        template = next(op["value"] for op in body if op["path"] == "/spec/template")
        if self.undo_at is not None and self.elapsed() < self.undo_at:
            self.offset += self.undo_at - self.elapsed()
            self.pending = [r for r in self.pending if r.t >= self.undo_at]
            return self._with_version(next(r.object for r in self.pending if r.kind == "Deployment"))
        rolled = copy.deepcopy(deployment)
        metadata, spec = rolled["metadata"], rolled["spec"]
        metadata["generation"] += 1
        annotations = metadata.setdefault("annotations", {})
        revision = int(annotations.get("deployment.kubernetes.io/revision", "0"))
        annotations["deployment.kubernetes.io/revision"] = str(revision + 1)
        spec["template"] = template
        replicas = spec.get("replicas", 1)
        rolled["status"] = {
            **rolled.get("status", {}), "observedGeneration": metadata["generation"], "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                           {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}],
        }
        self.pending = []
        self._record("Deployment", "MODIFIED", rolled)
        self.condition.notify_all()
        return self._with_version(rolled)


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def _handler(cluster: FakeCluster):
    class Handler(FakeHandler):
        def _fault(self, verb: str, plural: str, name: str) -> bool:
            if (verb, plural) in cluster.faults.forbidden:
                group = "" if plural in ("pods", "events") else "apps"
                what = f'{plural}.{group} "{name}"' if name and group else f'{plural} "{name}"' if name else plural
                self.answer(403, _status(403, "Forbidden", f'{what} is forbidden: User "system:serviceaccount:'
                                         f'drone:default" cannot {verb} resource "{plural}" in API group "{group}" '
                                         f'in the namespace "demo"'))
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
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            cluster.requests.append((self.command, self.path, self.headers.get("Content-Type", "")))
            match = PATH.match(url.path)
            if not match:
                return self.answer(404, _status(404, "NotFound", f"no route {url.path}"))
            plural, name, sub = match["plural"], match["name"], match["sub"]
            kind = PLURALS[plural]
            verb = {"PATCH": "patch"}.get(self.command) or ("watch" if query.get("watch") == "true" else
                                                           "get" if name else "list")
            if self._fault(verb, f"{plural}/log" if sub else plural, name or ""):
                return
            if self.command == "PATCH":
                code, patched = cluster.patch(name, self.headers.get("Content-Type", ""), json.loads(raw_body))
                return self.answer(code, patched)
            if sub == "log":
                text = cluster.logs.get(name, "".join(f"{name} log line {i}\n" for i in range(1, 31)))
                tail = int(query.get("tailLines", 0) or 0)
                return self.answer(200, "".join(text.splitlines(True)[-tail:] if tail else text), "text/plain")
            if name:
                with cluster.condition:
                    obj = cluster.current[kind].get(name)
                if obj is None:
                    return self.answer(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
                return self.answer(200, obj)
            selected = query.get("fieldSelector", "").removeprefix("metadata.name=") or None
            if query.get("watch") == "true":
                return self._watch(kind, int(query.get("resourceVersion") or 0), selected,
                                   float(query.get("timeoutSeconds") or 60))
            with cluster.condition:
                items = [o for n, o in cluster.current[kind].items() if selected in (None, n)]
                version = str(len(cluster.log))
            self.answer(200, {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {"resourceVersion": version},
                              "items": items})

        def _watch(self, kind: str, since: int, selected: str | None, timeout: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if kind in cluster.faults.expire_watch and since:
                cluster.faults.expire_watch.discard(kind)
                self._chunk({"type": "ERROR", "object": _status(410, "Expired", "too old resource version")})
                return self._end()
            drop_after = cluster.faults.drop_watch_after.pop(kind, None)
            sent, deadline = 0, time.monotonic() + timeout
            position = since
            while time.monotonic() < deadline and not cluster._stopped.is_set():
                with cluster.condition:
                    fresh = [e for e in cluster.log if e[0] > position]
                    if not fresh:
                        cluster.condition.wait(0.2)
                        continue
                for version, event_kind, event_type, obj in fresh:
                    position = version
                    if event_kind != kind or selected not in (None, obj["metadata"].get("name")):
                        continue
                    if drop_after is not None and sent >= drop_after:
                        self.close_connection = True
                        return  # the connection drops mid-stream, without a closing chunk
                    if not self._chunk({"type": event_type, "object": obj}):
                        return
                    sent += 1
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
