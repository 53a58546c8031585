"""Any Kubernetes object by apiVersion and kind, through the client's dynamic client: server-side
apply under drone_kit's field manager, get, create-if-missing, list, and GETs through the API
server's service proxy (how readiness is checked from outside the cluster, kube-proxy or not).

Objects go in and come out as plain dicts. Retries only on connection errors, 5xx and 429, each
attempt logged: a 409 from an apply is a field someone else manages, never retried or forced
unless the caller says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from drone_kit.clients.kube import KubeError, status_message
from drone_kit.clients.retry import retrying

FIELD_MANAGER = "drone-kit"
Log = Callable[[str], None]
Obj = dict[str, Any]


class ApplyConflict(KubeError):
    """Fields of an object drone_kit applies are now managed by someone else (a hand edit)."""


class UnknownKind(KubeError):
    """The API server serves no such apiVersion/kind (a CRD not installed yet)."""


def describe(obj: Obj) -> str:
    """Pure: `Kind namespace/name`, or `Kind name` for a cluster-scoped object."""
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


class ClusterObjects:
    def __init__(self, api_client: k8s.ApiClient, log: Log, sleep: Callable[[float], None] = time.sleep,
                 attempts: int = 5) -> None:
        self.api_client = api_client
        self.log, self.sleep, self.attempts = log, sleep, attempts
        self._dynamic: DynamicClient | None = None

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    @property
    def dynamic(self) -> DynamicClient:
        if self._dynamic is None:  # discovery is several requests: only once something needs it
            self._dynamic = self._call("discover", "the API", lambda: DynamicClient(self.api_client))
        return self._dynamic

    def _call(self, verb: str, what: str, method: Callable[[], Any], attempts: int | None = None) -> Any:
        retry = retrying(f"kubernetes: {verb} {what}", attempts or self.attempts, self.log, sleep=self.sleep)
        try:
            return retry(method)
        except ApiException as e:
            message = status_message(e)
            if e.status == 409 and verb == "apply":
                raise ApplyConflict(f"{what}: changed by hand: {message}",
                                    hint="undo the hand edit or move it into platform.yaml; "
                                         "`--force-conflicts` takes the fields back", status=409) from e
            hint = "the kubeconfig's user needs cluster-admin to install the platform" if e.status == 403 else ""
            raise KubeError(f"{verb} {what}: HTTP {e.status} {message}", hint=hint, status=e.status) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise KubeError(f"cannot reach the Kubernetes API at {self.host}: {type(e).__name__}",
                            hint="check the kubeconfig and that the cluster is up") from e

    def server_version(self) -> str:
        """The API server's gitVersion, e.g. "v1.28.5+k3s1"."""
        version = self._call("get", "the server's version", lambda: k8s.VersionApi(self.api_client).get_code())
        return str(version.git_version)

    def resource(self, api_version: str, kind: str) -> Any:
        """The API's resource for a kind; discovery is refreshed once on a miss (a CRD just added)."""
        for refresh in (False, True):
            if refresh:
                self.dynamic.resources.invalidate_cache()
            try:
                return self.dynamic.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                continue
        raise UnknownKind(f"the API server serves no {kind} in {api_version}",
                          hint="its CustomResourceDefinition is not installed (yet)")

    def apply(self, obj: Obj, dry_run: bool = False, force: bool = False, attempts: int | None = None,
              field_manager: str = FIELD_MANAGER) -> Obj:
        """Server-side apply; returns the object as the server has it (or would, with `dry_run`).
        `attempts=1` for a caller that retries on its own clock (a webhook not serving yet).
        Another `field_manager` owns fields apart from bootstrap's: an apply of a few fields of an
        object would otherwise give up every other field bootstrap set."""
        meta = obj["metadata"]
        resource = self.resource(obj["apiVersion"], obj["kind"])
        extra = {"dry_run": "All"} if dry_run else {}
        applied = self._call("apply", describe(obj), lambda: self.dynamic.server_side_apply(
            resource, body=obj, name=meta["name"], namespace=meta.get("namespace"), field_manager=field_manager,
            force_conflicts=force, **extra), attempts=attempts)
        return dict(applied.to_dict())

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        resource = self.resource(api_version, kind)
        try:
            found = self._call("get", describe({"kind": kind, "metadata": {"name": name, "namespace": namespace}}),
                               lambda: self.dynamic.get(resource, name=name, namespace=namespace))
        except KubeError as e:
            if e.status == 404:
                return None
            raise
        return dict(found.to_dict())

    def create(self, obj: Obj) -> Obj | None:
        """Creates the object; None when one of that name exists already (it is left as it is)."""
        resource = self.resource(obj["apiVersion"], obj["kind"])
        try:
            created = self._call("create", describe(obj), lambda: self.dynamic.create(
                resource, body=obj, namespace=obj["metadata"].get("namespace"), field_manager=FIELD_MANAGER))
        except KubeError as e:
            if e.status == 409:
                return None
            raise
        return dict(created.to_dict())

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               grace_seconds: int | None = None) -> bool:
        """Deletes the object; False when it was not there."""
        resource = self.resource(api_version, kind)
        extra = {"grace_period_seconds": grace_seconds} if grace_seconds is not None else {}
        try:
            self._call("delete", describe({"kind": kind, "metadata": {"name": name, "namespace": namespace}}),
                       lambda: self.dynamic.delete(resource, name=name, namespace=namespace, **extra))
        except KubeError as e:
            if e.status == 404:
                return False
            raise
        return True

    def list_of(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str = "",
             field_selector: str = "") -> list[Obj]:
        resource = self.resource(api_version, kind)
        try:
            listed = self._call("list", f"{kind} in {namespace or 'all namespaces'}", lambda: self.dynamic.get(
                resource, namespace=namespace, label_selector=label_selector or None,
                field_selector=field_selector or None))
        except KubeError as e:
            if e.status == 404:  # its CRD removed since discovery was cached: none of it exists
                return []
            raise
        return [dict(item) for item in listed.to_dict().get("items") or []]

    def proxy_get(self, namespace: str, service: str, port: int | str, path: str,
                  timeout: float = 5.0) -> tuple[int, str]:
        """GET a Service's path through the API server: (status, body); status 0 when no answer.
        Asked once: readiness polls again on its own clock."""
        url = f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{path.lstrip('/')}"
        try:
            request = self.api_client.param_serialize("GET", url, auth_settings=["BearerToken"])
            response = self.api_client.call_api(*request, _request_timeout=timeout)
            return response.status, (response.read() or b"").decode(errors="replace")
        except ApiException as e:
            return e.status or 0, str(e.body or "")
        except (urllib3.exceptions.HTTPError, OSError):
            return 0, ""

    def pod_log(self, namespace: str, pod: str, container: str, tail: int = 15) -> str:
        """The last lines a container printed; '' when there are none to get."""
        core: Any = k8s.CoreV1Api(self.api_client)
        try:
            response = core.read_namespaced_pod_log(pod, namespace, container=container, tail_lines=tail,
                                                    _preload_content=False, _request_timeout=5)
            return str(response.data.decode(errors="replace"))
        except (ApiException, urllib3.exceptions.HTTPError, OSError):
            return ""

    def events_of(self, namespace: str, kind: str, name: str) -> list[Obj]:
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        try:
            return self.list_of("v1", "Event", namespace, field_selector=selector)
        except KubeError:
            return []


def status_json(text: str) -> Obj:
    """Pure: a JSON answer as a dict; {} for anything else."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
