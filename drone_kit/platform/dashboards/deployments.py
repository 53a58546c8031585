"""The deployments dashboard, built on the shim's metrics (`drone_kit.shim.metrics`): the hooks
it relays from Gitea to Drone and its outbox, then the delivery measures of builds and deploys
per repository, with every deploy marked on the time axis. Pure."""

from __future__ import annotations

from drone_kit.platform.dashboards.panels import dashboard as build
from drone_kit.platform.dashboards.panels import stat, timeseries, variable
from drone_kit.platform.objects import Obj

UID = "drone-kit-deployments"
REPO = 'repo=~"$repo"'
RATE = "[$__rate_interval]"


def _rate(counter: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate(drone_kit_shim_{counter}_total{RATE}))"


def _quantile(q: float, histogram: str, window: str, by: str = "le", match: str = "") -> str:
    selector = f"{{{match}}}" if match else ""
    return f"histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket{selector}[{window}])))"


def dashboard() -> Obj:
    """Pure: the dashboard's JSON model."""
    return build(UID, "Deployments: hooks and delivery", "Gitea → shim → Drone, and how deploys go", [
        (4, [stat("Hooks waiting in the outbox", "sum(drone_kit_shim_outbox_depth)", red_at=50),
             stat("Oldest undelivered hook", "max(drone_kit_shim_outbox_oldest_age_seconds)", "s", red_at=300),
             stat("Hooks failed for good", "sum(drone_kit_shim_outbox_failed)", red_at=1,
                  description="Not replayed yet: the shim's /deliveries?status=failed lists them"),
             stat("Deploys (24 h)", f'sum(increase(drone_kit_deploys_total{{status="success", {REPO}}}[24h]))'),
             stat("Change failure rate", f"max(drone_kit_change_failure_ratio{{{REPO}}})", "percentunit",
                  red_at=0.3)]),
        (8, [timeseries("Hooks received", [(_rate("hooks_received", "event"), "{{event}}")], "reqps"),
             timeseries("Hook outcomes", [(_rate("hooks_delivered"), "delivered"), (_rate("hooks_failed"), "failed"),
                                          (_rate("hooks_ignored"), "ignored (repository off in Drone)"),
                                          (_rate("hooks_retried"), "retried")], "reqps"),
             timeseries("Hooks refused", [(_rate("hooks_rejected", "reason"), "{{reason}}")], "reqps")]),
        (8, [timeseries("Outbox", [("sum(drone_kit_shim_outbox_depth)", "waiting"),
                                   ("sum(drone_kit_shim_outbox_failed)", "failed for good")]),
             timeseries("Oldest undelivered hook", [("max(drone_kit_shim_outbox_oldest_age_seconds)", "age")], "s"),
             timeseries("Delivery latency", [
                 (_quantile(0.5, "drone_kit_shim_delivery_latency_seconds", "$__rate_interval"), "median"),
                 (_quantile(0.95, "drone_kit_shim_delivery_latency_seconds", "$__rate_interval"), "95th percentile")],
                 "s", "From the hook's arrival to Drone's acceptance")]),
        (8, [timeseries("Deploys per hour", [
                 (f"sum by (repo, status) (increase(drone_kit_deploys_total{{{REPO}}}[1h]))", "{{repo}} {{status}}")]),
             timeseries("Lead time (commit to deploy)", [
                 (_quantile(0.5, "drone_kit_lead_time_seconds", "1d", "le, repo", REPO), "{{repo}} median")], "s"),
             timeseries("Time to restore", [(f"drone_kit_time_to_restore_seconds{{{REPO}}}", "{{repo}}")], "s",
                        "From a failed deploy to the next good one")]),
        (8, [timeseries("Builds per hour", [
                 (f"sum by (repo, status) (increase(drone_kit_builds_total{{{REPO}}}[1h]))", "{{repo}} {{status}}")]),
             timeseries("Build duration", [
                 (_quantile(0.95, "drone_kit_build_duration_seconds", "1h", "le, repo", REPO),
                  "{{repo}} 95th percentile")], "s")]),
    ], [variable("repo", "Repository", "label_values(drone_kit_deploys_total, repo)")])
