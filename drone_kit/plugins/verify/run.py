"""One verify run: the HTTP checks, then the checks over time, the result and card, and a
rollback of what the deploy step changed when the new version fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from drone_kit.clients.kube import Kube
from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.plugins.cluster import cluster_client
from drone_kit.plugins.verify.analysis import parse_queries
from drone_kit.plugins.verify.checks import http_checks
from drone_kit.plugins.verify.over_time import over_time
from drone_kit.plugins.verify.undo import NOTHING, changes_to_undo
from drone_kit.rollouts.revisions import template_of_revision
from drone_kit.rollouts.rollback import Restore, roll_back
from drone_kit.rollouts.rules import Limits
from drone_kit.rollouts.soak import Soak
from drone_kit.step.cards import write_card
from drone_kit.step.plugin import PluginRun
from drone_kit.step.results import read_result, write_result


def run_verify(run: PluginRun, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> None:
    s, ctx = run.settings, run.context
    queries = parse_queries(s["queries"] or [])
    if not (s["url"] or s["version_url"] or queries or s["soak"]):
        raise SettingsError(
            ["nothing to verify: set settings.url, settings.version_url, settings.queries or settings.soak"])
    if queries and not s["prometheus"]:
        raise DroneKitError("settings.queries needs settings.prometheus", hint="set prometheus: http://prometheus:9090")
    deployed = read_result(ctx.workspace, "deploy")
    if s["soak"] and not deployed:
        raise DroneKitError("settings.soak needs .drone-kit/deploy.json from a deploy step earlier in the pipeline")

    def kube() -> Kube:
        return cluster_client(run, sleep)

    soak = Soak(kube(), deployed, run.say) if s["soak"] and deployed else None
    checks: list[dict] = []
    outcome = http_checks(run, checks, sleep)
    if outcome == "pass" and (queries or soak):
        outcome = over_time(run, queries, soak, checks, clock, sleep)
    result: dict[str, Any] = {"outcome": outcome, "checks": checks, "rollback": None}
    nothing = ""
    if outcome == "fail" and s["rollback"]:
        result["rollback"], nothing = _roll_back(run, kube, deployed, clock, sleep)
    write_result(ctx.workspace, "verify", result)
    write_card(ctx.card_path, "verify", result, run.stdout, ctx.cards_url)
    if outcome == "pass":
        run.say(f"verified: {len(checks)} checks passed")
        return
    failed = [c for c in checks if c["outcome"] != "pass"]
    summary = "; ".join(f"{c['name']}: {c['value']} (expected {c['expected']})" for c in failed[-3:])
    if outcome == "inconclusive":
        raise DroneKitError(f"verification inconclusive: {summary}", hint="nothing was rolled back; check the queries")
    rolled = {"rolled-back": "; rolled back", "rollback-failed": "; THE ROLLBACK FAILED TOO",
              "superseded": "; not rolled back: a newer deploy has changed it since",
              NOTHING: f"; nothing to roll back: {nothing}"}.get(result["rollback"], "")
    raise DroneKitError(f"verification failed: {summary}{rolled}", hint="each check's line is above")


def _roll_back(run: PluginRun, kube: Callable[[], Kube], deployed: dict | None, clock: Callable[[], float],
               sleep: Callable[[float], None]) -> tuple[str, str]:
    """The rollback's outcome, and why there was nothing to roll back (when so). The cluster is
    not asked at all then: by hand there may be none."""
    undo = changes_to_undo(deployed, run.context.build_number)
    if not undo.deployments:
        run.say(f"nothing to roll back: {undo.reason}")
        return NOTHING, undo.reason
    client, namespace = kube(), undo.namespace
    replicasets, _ = client.list("ReplicaSet", namespace)
    restores = [Restore(d["name"], _template_to_restore(run, d, replicasets), d["from_image"], d.get("generation"))
                for d in undo.deployments]
    outcome, _ = roll_back(client, namespace, restores, Limits(), 300.0, run.say, clock, sleep)
    return outcome, ""


def _template_to_restore(run: PluginRun, deployed: dict, replicasets: list[dict]) -> dict | None:
    """The template the deploy step replaced: its revision's, whole, from the cluster; else the
    one deploy.json keeps, unless that lacks the env values."""
    template = template_of_revision(replicasets, deployed["name"], deployed.get("from_revision", ""))
    if template is None and deployed.get("env_values_removed"):
        run.say(f"revision {deployed.get('from_revision')} of {deployed['name']} is gone from the cluster, and "
                ".drone-kit/deploy.json keeps no env values: its template cannot be restored")
    return template if template is not None or deployed.get("env_values_removed") else deployed.get("template")


