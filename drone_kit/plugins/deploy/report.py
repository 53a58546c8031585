"""How a deploy ends: `.drone-kit/deploy.json` (what verify rolls back from), the card, and the
last line of the step (or the error that fails it)."""

from __future__ import annotations

import copy
from typing import Any

from drone_kit.errors import DroneKitError
from drone_kit.plugins.deploy.target import Target
from drone_kit.rollouts.rules import Verdict
from drone_kit.step.cards import write_card
from drone_kit.step.plugin import PluginRun
from drone_kit.step.results import write_result


def report(run: PluginRun, namespace: str, targets: list[Target], image: str | None, verdicts: dict[str, Verdict],
           outcome: str, detected: float, rollback_seconds: float | None) -> None:
    """Record the outcome (deploy.json, card) and end the step: a line on success, else the error."""
    failed = next((v for v in verdicts.values() if v.state == "failed"), None)
    result = {
        "outcome": outcome, "namespace": namespace, "image": image,
        # Whose change this is, so that verify undoes only its own build's deploy.
        "build_number": run.context.build_number, "commit": run.context.commit_sha,
        "detect_seconds": round(detected, 3),
        "rollback_seconds": None if rollback_seconds is None else round(rollback_seconds, 3),
        "deployments": [{
            "name": t.name, "container": t.container, "from_image": t.from_image, "to_image": image,
            "from_revision": t.revision, "generation": t.generation, "changed": t.changed_template is not None,
            "outcome": verdicts.get(t.name, Verdict("progressing")).state,
            **_stored_template(t.template),
        } for t in targets],
        "failure": None if failed is None else {"reason": failed.reason, "message": failed.message, "pod": failed.pod,
                                                "container": failed.container, "exit_code": failed.exit_code},
    }
    write_result(run.context.workspace, "deploy", result)
    card = {k: v for k, v in result.items() if k != "deployments"}
    write_card(run.context.card_path, "deploy", card, run.stdout, run.context.cards_url)
    if outcome == "success":
        run.say(f"rolled out in {detected:.1f}s: " + ", ".join(f"{namespace}/{t.name}" for t in targets))
        return
    assert failed is not None  # the outcome is other than success only when a rollout failed
    if outcome == "superseded":
        raise DroneKitError(f"{failed.message}: this deploy's image was not seen through, and nothing was rolled "
                            "back over the newer change", hint="the newer deploy's step says how its rollout went")
    summary = f"the rollout failed after {detected:.1f}s: {failed.message}"
    if outcome == "rolled-back":
        raise DroneKitError(summary + f"; rolled back in {rollback_seconds:.1f}s", hint="the diagnosis is above")
    if outcome == "rollback-failed":
        raise DroneKitError(summary + "; THE ROLLBACK FAILED TOO: the deployment needs a hand",
                            hint="kubectl rollout status / kubectl rollout undo")
    raise DroneKitError(summary + " (rollback is off)", hint="the diagnosis is above")


def _stored_template(template: dict | None) -> dict[str, Any]:
    """Pure: what deploy.json keeps of the template for a later rollback (verify's): all of it but
    inline env values, which can be secrets; a rollback takes them from the revision's ReplicaSet."""
    if template is None:
        return {"template": None, "env_values_removed": False}
    stored, removed = copy.deepcopy(template), False
    spec = stored.get("spec", {})
    for container in [*spec.get("containers", []), *spec.get("initContainers", [])]:
        for variable in container.get("env") or []:
            if "value" in variable:
                variable.pop("value")
                removed = True
    return {"template": stored, "env_values_removed": removed}
