"""What a failed verification may roll back: only what this build's deploy step changed and left
changed, as its `.drone-kit/deploy.json` records. Pure.

Nothing else is verify's to undo: a Deployment the deploy step found already running the image, a
watch-only deploy, a deploy from another build, or a change the deploy step already rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTHING = "nothing-to-roll-back"  # verify.json's `rollback` when there was nothing of ours to undo
# Deploy outcomes after which its change is no longer in place, and why.
_UNDONE = {"rolled-back": "the deploy step already rolled its change back",
           "rollback-failed": "the deploy step's own rollback already failed (the deployment needs a hand)",
           "superseded": "a newer deploy has changed the deployment since"}


@dataclass(frozen=True)
class Undo:
    deployments: list[dict]  # the deploy.json entries to restore; [] when there is nothing
    reason: str = ""  # why there is nothing, said plainly
    namespace: str = ""


def _changed(entry: dict) -> bool:
    if "changed" in entry:
        return bool(entry["changed"])
    # Written before deploy.json said so: the image was set only when it differed.
    return entry.get("to_image") is not None and entry.get("to_image") != entry.get("from_image")


def changes_to_undo(deployed: dict | None, build_number: int) -> Undo:
    """Pure: the deployments this build's deploy step changed and left changed (build 0: by hand)."""
    if deployed is None:
        return Undo([], "no deploy step ran in this build (no .drone-kit/deploy.json)")
    theirs = deployed.get("build_number") or 0
    if theirs and build_number and theirs != build_number:
        return Undo([], f".drone-kit/deploy.json is from build {theirs}, not from this one ({build_number})")
    if deployed.get("outcome") in _UNDONE:
        return Undo([], _UNDONE[deployed["outcome"]])
    changed = [entry for entry in deployed.get("deployments") or [] if _changed(entry)]
    if not changed:
        return Undo([], "the deploy step changed nothing (each deployment already ran its image, or it only watched)")
    return Undo(changed, namespace=deployed["namespace"])
