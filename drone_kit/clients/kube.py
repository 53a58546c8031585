"""The Kubernetes API, through the official client: requests with retries, and watches.

Generic: nothing here knows about rollouts. Objects are plain dicts in the API's own JSON form.
Retries happen only on connection errors, 5xx, 429 and 409, each attempt logged. Watching comes
in three layers: one watch stream (`watch_once`), list-then-watch that relists on 410 Gone and
resumes after a dropped connection (`follow`), and the caller's loop over it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from drone_kit.clients.retry import backoff_delay, retrying
from drone_kit.errors import DroneKitError

Log = Callable[[str], None]
KINDS = {  # kind -> (API group class, list method, resource as RBAC names it)
    "Deployment": ("apps", "list_namespaced_deployment", "deployments"),
    "ReplicaSet": ("apps", "list_namespaced_replica_set", "replicasets"),
    "Pod": ("core", "list_namespaced_pod", "pods"),
    "Event": ("core", "list_namespaced_event", "events"),
}
WATCH_RESUME_BASE, WATCH_RESUME_CAP = 0.4, 5.0  # seconds between tries to resume a watch
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class KubeError(DroneKitError):
    def __init__(self, message: str, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class Gone(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


def status_message(e: ApiException) -> str:
    try:
        return json.loads(e.body or e.data or "{}").get("message") or e.reason or ""
    except (ValueError, TypeError, AttributeError):
        return str(e.reason or "")


def explain(e: ApiException, verb: str, resource: str, where: str) -> KubeError:
    """Pure: an API refusal as an error that says what to do."""
    message = status_message(e)
    if e.status == 403:
        return KubeError(f"not allowed to {verb} {resource} in {where} (RBAC): {message}",
                         hint=f"give the step's service account the '{verb}' verb on '{resource}': "
                              "apply plugins/deploy/rbac.yaml", status=403)
    if e.status == 401:
        return KubeError("the cluster refused the credentials", hint="check settings.kubeconfig", status=401)
    if e.status == 404:
        return KubeError(f"{where} not found: {message}", status=404)
    return KubeError(f"{verb} {resource} in {where} failed: HTTP {e.status} {message}", status=e.status)


class Kube:
    """The API calls the plugins make, with retries; `sleep` and `log` are the caller's."""

    def __init__(self, api_client: k8s.ApiClient, log: Log, sleep: Callable[[float], None] = time.sleep,
                 attempts: int = 6) -> None:
        self.api_client = api_client
        self.apis: dict[str, Any] = {"apps": k8s.AppsV1Api(api_client), "core": k8s.CoreV1Api(api_client)}
        self.log, self.sleep, self.attempts = log, sleep, attempts

    @property
    def host(self) -> str:
        return self.api_client.configuration.host

    def call(self, verb: str, resource: str, where: str, method: Callable[..., Any], *args: Any,
             attempts: int | None = None, **kwargs: Any) -> Any:
        """Call an API method, retrying connection errors, 5xx, 429 and 409 (a conflicting write)."""
        retry = retrying(f"kubernetes: {verb} {resource} {where}", attempts or self.attempts, self.log,
                         conflicts=True, sleep=self.sleep)
        try:
            return retry(method, *args, **kwargs)
        except ApiException as e:
            raise explain(e, verb, resource, where) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise KubeError(f"cannot reach the Kubernetes API at {self.host}: {type(e).__name__}",
                            hint="check settings.kubeconfig and that the cluster is up") from e

    def _json(self, verb: str, resource: str, where: str, method: Callable[..., Any], *args: Any,
              **kwargs: Any) -> dict[str, Any]:
        response = self.call(verb, resource, where, method, *args, _preload_content=False, **kwargs)
        return json.loads(response.data)

    def get_deployment(self, namespace: str, name: str) -> dict:
        return self._json("get", "deployments", f"{namespace}/{name}",
                          self.apis["apps"].read_namespaced_deployment, name, namespace)

    def patch_deployment(self, namespace: str, name: str, body: dict[str, Any] | list[dict[str, Any]],
                         content_type: str, dry_run: bool = False) -> dict[str, Any]:
        return self._json("patch", "deployments", f"{namespace}/{name}", self.apis["apps"].patch_namespaced_deployment,
                          name, namespace, body, dry_run="All" if dry_run else None, _content_type=content_type)

    def pod_log(self, namespace: str, pod: str, container: str, previous: bool, tail: int = 20) -> str:
        """The last lines a container printed. Asked once: logs are for a diagnosis, which must
        never hold up what comes after it (a rollback)."""
        response = self.call("get", "pods/log", f"{namespace}/{pod}", self.apis["core"].read_namespaced_pod_log, pod,
                             namespace, attempts=1, container=container, previous=previous, tail_lines=tail,
                             _preload_content=False, _request_timeout=5)
        return response.data.decode(errors="replace")

    def list(self, kind: str, namespace: str, **selectors: Any) -> tuple[list[dict[str, Any]], str]:
        group, method, resource = KINDS[kind]
        listed = self._json("list", resource, f"namespace {namespace}", getattr(self.apis[group], method), namespace,
                            **selectors)
        return listed.get("items") or [], listed["metadata"].get("resourceVersion", "")

    def watch_once(self, kind: str, namespace: str, resource_version: str, timeout: int = 60,
                   **selectors: Any) -> Iterator[dict[str, Any]]:
        """One watch stream: its events as dicts ({"type", "object"}) until the server ends it."""
        group, method, resource = KINDS[kind]
        try:
            response = getattr(self.apis[group], method)(
                namespace, watch=True, resource_version=resource_version, timeout_seconds=timeout,
                allow_watch_bookmarks=True, _preload_content=False, _request_timeout=(10, timeout + 10), **selectors)
        except ApiException as e:
            if e.status == 410:
                raise Gone from e
            raise
        buffer = b""
        try:
            for chunk in response.stream(65536):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = json.loads(line)
                        if event.get("type") == "ERROR" and event.get("object", {}).get("code") == 410:
                            raise Gone
                        yield event
        finally:
            response.release_conn()


def follow(kube: Kube, kind: str, namespace: str, stop: threading.Event, sleep: Callable[[float], None] = time.sleep,
           **selectors: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every change to `kind` objects, forever: the listed objects as ADDED, then the watch;
    relists on 410 Gone, resumes where it was after a dropped connection or a server error.
    A relist first reports each object it no longer lists as DELETED (its last known state)."""
    resource_version = None
    present: dict[str, dict[str, Any]] = {}  # name -> object as last reported: what a relist checks against
    failures = 0
    while not stop.is_set():
        try:
            if resource_version is None:
                items, resource_version = kube.list(kind, namespace, **selectors)
                # The 410 took the watch history with it: a deletion in the gap shows only as an absence.
                listed = {_name(item) for item in items}
                for name in [name for name in present if name not in listed]:
                    yield "DELETED", present.pop(name)
                for item in items:
                    present[_name(item)] = item
                    yield "ADDED", item
            for event in kube.watch_once(kind, namespace, resource_version, **selectors):
                failures = 0
                obj = event.get("object") or {}
                resource_version = obj.get("metadata", {}).get("resourceVersion") or resource_version
                if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    if event["type"] == "DELETED":
                        present.pop(_name(obj), None)
                    else:
                        present[_name(obj)] = obj
                    yield event["type"], obj
                if stop.is_set():
                    return
        except Gone:
            kube.log(f"kubernetes: watch of {kind.lower()}s expired (410 Gone); listing again")
            resource_version = None
        except ApiException as e:
            if e.status in (401, 403, 404):
                raise explain(e, "watch", KINDS[kind][2], f"namespace {namespace}") from e
            failures += 1
            delay = backoff_delay(failures, WATCH_RESUME_BASE, WATCH_RESUME_CAP)
            kube.log(f"kubernetes: watch of {kind.lower()}s answered {e.status}; resuming in {delay:.1f}s")
            sleep(delay)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as e:
            failures += 1
            delay = backoff_delay(failures, WATCH_RESUME_BASE, WATCH_RESUME_CAP)
            kube.log(f"kubernetes: watch of {kind.lower()}s interrupted ({type(e).__name__}); resuming in {delay:.1f}s")
            sleep(delay)


def _name(obj: dict[str, Any]) -> str:
    return obj.get("metadata", {}).get("name", "")
