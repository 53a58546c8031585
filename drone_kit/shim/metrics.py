"""The shim's Prometheus metrics: the hook relay, and delivery metrics of builds and deploys
(the four DORA measures per repository: lead time, deploy frequency, change-failure rate,
time to restore)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800)
DURATION_BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 3600)
LEAD_TIME_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600)


@dataclass
class DeliveryHistory:
    """Per repository: deploys so far, failed ones, and when the current failure began."""

    deploys: int = 0
    failed: int = 0
    broken_since: float | None = None


@dataclass
class ShimMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    history: dict[str, DeliveryHistory] = field(default_factory=dict)

    def __post_init__(self) -> None:
        r = self.registry
        self.received = Counter("drone_kit_shim_hooks_received", "Hooks accepted from Gitea", ["event"], registry=r)
        self.rejected = Counter("drone_kit_shim_hooks_rejected", "Hooks refused", ["reason"], registry=r)
        self.delivered = Counter("drone_kit_shim_hooks_delivered", "Hooks Drone accepted", registry=r)
        self.failed = Counter("drone_kit_shim_hooks_failed", "Hooks Drone refused for good", registry=r)
        self.ignored = Counter("drone_kit_shim_hooks_ignored", "Hooks Drone took but built nothing from: the "
                               "repository is disabled in Drone", registry=r)
        self.failed_now = Gauge("drone_kit_shim_outbox_failed", "Hooks failed for good and not replayed (alert on > 0)",
                                registry=r)
        self.retried = Counter("drone_kit_shim_hooks_retried", "Delivery attempts to retry", registry=r)
        self.depth = Gauge("drone_kit_shim_outbox_depth", "Hooks not yet delivered", registry=r)
        self.oldest = Gauge("drone_kit_shim_outbox_oldest_age_seconds", "Age of the oldest undelivered hook",
                            registry=r)
        self.latency = Histogram("drone_kit_shim_delivery_latency_seconds", "From receipt to Drone's acceptance",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.builds = Counter("drone_kit_builds", "Finished builds", ["repo", "status"], registry=r)
        self.build_seconds = Histogram("drone_kit_build_duration_seconds", "Build durations", ["repo"],
                                       buckets=DURATION_BUCKETS, registry=r)
        self.deploys = Counter("drone_kit_deploys", "Deploys (deploy steps and promotions)", ["repo", "status"],
                               registry=r)
        self.lead_time = Histogram("drone_kit_lead_time_seconds", "Commit to successful deploy", ["repo"],
                                   buckets=LEAD_TIME_BUCKETS, registry=r)
        self.change_failure = Gauge("drone_kit_change_failure_ratio", "Failed deploys / deploys", ["repo"], registry=r)
        self.restore_seconds = Gauge("drone_kit_time_to_restore_seconds", "Last failed deploy to the next good one",
                                     ["repo"], registry=r)

    def deploy_finished(self, repo: str, success: bool, commit_time: float | None, finished: float) -> None:
        history = self.history.setdefault(repo, DeliveryHistory())
        history.deploys += 1
        self.deploys.labels(repo, "success" if success else "failure").inc()
        if success:
            if commit_time:
                self.lead_time.labels(repo).observe(max(finished - commit_time, 0))
            if history.broken_since is not None:
                self.restore_seconds.labels(repo).set(finished - history.broken_since)
                history.broken_since = None
        else:
            history.failed += 1
            if history.broken_since is None:
                history.broken_since = finished
        self.change_failure.labels(repo).set(history.failed / history.deploys)
