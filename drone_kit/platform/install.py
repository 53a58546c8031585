"""Installing components on a cluster, one after another: secrets first (created once), then every
object by server-side apply in dependency order, then a wait until the component is really
ready. A component that does not become ready stops the run with what the cluster says about it.

Re-running is safe and changes nothing that is already right: server-side apply of an unchanged
object is a no-op (its resourceVersion stays), Secrets are only ever created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drone_kit.clients.cluster_objects import ClusterObjects, describe
from drone_kit.clients.kube import KubeError
from drone_kit.errors import DroneKitError
from drone_kit.platform.apply_defaults import with_defaulted_keys
from drone_kit.platform.changes import writes_nothing_new
from drone_kit.platform.component import Component, GeneratedSecret, HttpCheck, LogCheck, Workload
from drone_kit.platform.objects import Obj, is_upstream
from drone_kit.platform.phases import NAMESPACES, WEBHOOK_CHECKED, in_order, phase_of
from drone_kit.platform.readiness import crd_established, job_failed, pod_selector, workload_state
from drone_kit.platform.secrets_store import ensure_secret
from drone_kit.platform.stuck import why_not_ready
from drone_kit.platform.webhooks import webhook_not_ready

Report = Callable[[str, str, str], None]  # (component, state, detail)
POLL = 2.0  # seconds between readiness checks


class NotReady(DroneKitError):
    """A component did not become ready in time."""


@dataclass(frozen=True)
class Planned:
    """One component, rendered: what gets applied and checked."""

    component: Component
    objects: list[Obj]
    secrets: list[GeneratedSecret]
    workloads: list[Workload]
    checks: list[HttpCheck]
    log_checks: list[LogCheck] = field(default_factory=list)


@dataclass
class Outcome:
    applied: int = 0
    changed: list[str] = field(default_factory=list)  # objects whose resourceVersion moved
    secrets_created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # for the summary: not worth stopping the run


@dataclass
class Installer:
    cluster: ClusterObjects
    report: Report
    timeout: float
    webhook_timeout: float
    force_conflicts: bool = False
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    outcome: Outcome = field(default_factory=Outcome)

    def install(self, plan: list[Planned]) -> Outcome:
        for planned in plan:
            self._install(planned)
        return self.outcome

    def _install(self, planned: Planned) -> None:
        """Namespaces, then the Secrets pods will read, then everything else; the workloads'
        readiness; then objects a webhook checks (the webhook is one of those workloads); then
        the component's own answers over HTTP."""
        name, started = planned.component.name, self.clock()
        self.report(name, "applying", f"{len(planned.objects)} objects")
        ordered = in_order(planned.objects)
        for obj in [obj for obj in ordered if phase_of(obj) == NAMESPACES]:
            self._apply(name, obj)
        for spec in planned.secrets:
            if ensure_secret(self.cluster, spec) == "created":
                self.outcome.secrets_created.append(f"{spec.namespace}/{spec.name}")
        for obj in [obj for obj in ordered if phase_of(obj) not in (NAMESPACES, WEBHOOK_CHECKED)]:
            self._apply(name, obj)
        self.report(name, "waiting", "for readiness")
        for workload in planned.workloads:
            self._wait_workload(name, workload)
        for obj in [obj for obj in ordered if phase_of(obj) == WEBHOOK_CHECKED]:
            self._wait_accepted(name, obj)
            self._apply(name, obj)
        for check in planned.checks:
            self._wait_http(name, check)
        for log_check in planned.log_checks:
            self._wait_log(name, log_check)
        self.report(name, "ready", f"in {self.clock() - started:.0f}s")

    def _apply(self, name: str, obj: Obj) -> None:
        """A live object is applied for real only when a dry run shows the apply would change it:
        a re-run leaves every resourceVersion where it was (see `writes_nothing_new`)."""
        meta, applied = obj["metadata"], with_defaulted_keys(obj)
        force = self.force_conflicts and not is_upstream(obj)
        before = self.cluster.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        self.outcome.applied += 1
        if before is None or not writes_nothing_new(before, self.cluster.apply(applied, dry_run=True, force=force)):
            after = self.cluster.apply(applied, force=force)
            version = (after.get("metadata") or {}).get("resourceVersion")
            if before is None or (before.get("metadata") or {}).get("resourceVersion") != version:
                self.outcome.changed.append(describe(obj))
                self.report(name, "changed", f"{'created' if before is None else 'updated'} {describe(obj)}")
        if obj["kind"] == "CustomResourceDefinition":
            self._until(name, f"{describe(obj)} established", self.timeout, lambda: crd_established(
                self.cluster.get(obj["apiVersion"], obj["kind"], meta["name"]) or {}), lambda: [])

    def _wait_accepted(self, name: str, obj: Obj) -> None:
        """A webhook-checked object: dry-run it until the webhook answers (its pods may be up
        while it is not serving yet), retrying only on the webhook-not-ready errors."""
        last_error = ""

        def accepted() -> bool:
            nonlocal last_error
            try:
                self.cluster.apply(with_defaulted_keys(obj), dry_run=True, force=self.force_conflicts, attempts=1)
                return True
            except KubeError as e:
                if not webhook_not_ready(e.status, e.message):
                    raise
                last_error = e.message
                self.report(name, "waiting", "for the admission webhook to serve")
                return False

        self._until(name, f"the webhook to accept {describe(obj)}", self.webhook_timeout, accepted,
                    lambda: [f"the webhook's last answer: {last_error}"], setting="metallb.webhook_timeout")

    def wait_ready(self, name: str, workload: Workload) -> None:
        """Until the workload has rolled out and is ready; NotReady with its pods' story if not in time."""
        self._wait_workload(name, workload)

    def _wait_workload(self, name: str, workload: Workload) -> None:
        api_version = "batch/v1" if workload.kind == "Job" else "apps/v1"
        live: Obj = {}

        def ready() -> bool:
            nonlocal live
            live = self.cluster.get(api_version, workload.kind, workload.name, workload.namespace) or {}
            done, detail = workload_state(live)
            if job_failed(live):
                raise NotReady(f"{name}: Job {workload.namespace}/{workload.name} failed",
                               details=why_not_ready(self.cluster, live), hint=_hint(name))
            self.report(name, "waiting", f"{workload.kind} {workload.name}: {detail}")
            return done

        self._until(name, f"{workload.kind} {workload.namespace}/{workload.name}", self.timeout, ready,
                    lambda: why_not_ready(self.cluster, live))

    def _wait_http(self, name: str, check: HttpCheck) -> None:
        answer: tuple[int, str] = (0, "")

        def answers() -> bool:
            nonlocal answer
            answer = self.cluster.proxy_get(check.namespace, check.service, check.port, check.path)
            return answer[0] == check.status

        self._until(name, f"{check.service}.{check.namespace} {check.path} to answer {check.status}", self.timeout,
                    answers, lambda: [f"last answer: {answer[0] or 'none'} {answer[1][:200].strip()}"])

    def _wait_log(self, name: str, check: LogCheck) -> None:
        tails: list[str] = []

        def printed() -> bool:
            nonlocal tails
            workload = self.cluster.get("apps/v1", "Deployment", check.workload, check.namespace) or {}
            pods = self.cluster.list_of("v1", "Pod", check.namespace, label_selector=pod_selector(workload))
            tails = [self.cluster.pod_log(check.namespace, pod["metadata"]["name"], container["name"], tail=200)
                     for pod in pods for container in pod["spec"]["containers"]]
            return any(check.text in tail for tail in tails)

        self._until(name, f"{check.workload} to log \"{check.text}\"", self.timeout, printed,
                    lambda: [f"its last lines: {line}" for tail in tails for line in tail.splitlines()[-5:]])

    def _until(self, name: str, what: str, timeout: float, done: Callable[[], bool],
               reasons: Callable[[], list[str]], setting: str = "timeouts.ready") -> None:
        deadline = self.clock() + timeout
        while not done():
            if self.clock() >= deadline:
                self.report(name, "failed", f"timed out waiting for {what}")
                raise NotReady(f"{name}: timed out after {timeout:.0f}s waiting for {what}", details=reasons(),
                               hint=_hint(name, setting))
            self.sleep(POLL)


def _hint(name: str, setting: str = "timeouts.ready") -> str:
    return (f"fix what the lines above show, then run `drone_kit bootstrap` again (`--only {name}` to "
            f"retry just this part; {setting} in platform.yaml for slow nodes)")
