"""Rolling Deployments back to pod templates recorded before a deploy, and seeing it through.

What `kubectl rollout undo` does, but to the template recorded before the change rather than to
"the previous revision" (which may itself be broken, or gone with revisionHistoryLimit: 0), for
every Deployment at once, watched with the same rules until it has converged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drone_kit.clients.kube import JSON_PATCH, Kube, KubeError
from drone_kit.rollouts.rules import Limits
from drone_kit.rollouts.watch import RolloutWatch, wait_for


@dataclass(frozen=True)
class Restore:
    name: str
    template: dict | None  # None: there is nothing to go back to
    image: str  # what the template runs, for the log
    generation: int | None = None  # the generation the deploy made: a later one is someone else's change


def rollback_patch(restore: Restore) -> list[dict[str, Any]]:
    """Pure: the JSON patch that restores the template, only if nobody changed the Deployment since."""
    precondition = [{"op": "test", "path": "/metadata/generation", "value": restore.generation}]
    return [*(precondition if restore.generation is not None else []),
            {"op": "replace", "path": "/spec/template", "value": restore.template},
            {"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause",
             "value": f"rollback by drone_kit to {restore.image}"}]


def roll_back(kube: Kube, namespace: str, restores: list[Restore], limits: Limits, timeout: float,
              log: Callable[[str], None], clock: Callable[[], float], sleep: Callable[[float], None],
              watches: list[RolloutWatch] | None = None) -> tuple[str, float]:
    """Restore every template, watch until all converge; ("rolled-back", "rollback-failed" or, when
    every one was changed again since the deploy, "superseded"; seconds)."""
    started = clock()
    log(f"rolling back {', '.join(r.name for r in restores)} to the recorded pod templates")
    missing = [r.name for r in restores if r.template is None]
    if missing:
        log(f"ROLLBACK IMPOSSIBLE: no earlier revision of {', '.join(missing)} to go back to")
        return "rollback-failed", 0.0
    own_watches = watches is None
    if watches is None:
        watches = [RolloutWatch(kube, namespace, kube.get_deployment(namespace, r.name), log, clock) for r in restores]
    try:
        targets, superseded = {}, []
        for restore in restores:
            try:
                patched = kube.patch_deployment(namespace, restore.name, rollback_patch(restore), JSON_PATCH)
            except KubeError as e:
                if e.status != 422 or restore.generation is None:
                    raise
                superseded.append(restore.name)  # the precondition failed: a newer change is there
                continue
            targets[restore.name] = patched["metadata"]["generation"]
        if superseded:
            log(f"not rolled back: {', '.join(superseded)} changed again since this deploy, and that newer "
                "change stays")
        if not targets:
            return "superseded", clock() - started
        verdicts = wait_for([w for w in watches if w.name in targets], targets, limits, timeout, clock, sleep)
    finally:
        if own_watches:
            for watch in watches:
                watch.close()
    seconds = clock() - started
    broken = [f"{name}: {v.message}" for name, v in verdicts.items() if v.state != "succeeded"]
    if broken:
        log("ROLLBACK FAILED: " + "; ".join(broken))
        return "rollback-failed", seconds
    log(f"rolled back in {seconds:.1f}s: " + ", ".join(f"{r.name} runs {r.image} again" for r in restores))
    return "rolled-back", seconds
