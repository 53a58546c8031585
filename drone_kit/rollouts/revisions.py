"""A Deployment's revisions, as its ReplicaSets keep them: which pod template each revision had,
and the one before a given revision (what `kubectl rollout undo` restores). Pure."""

from __future__ import annotations

import copy

from drone_kit.rollouts.rules import HASH, REVISION


def _revision_number(replicaset: dict) -> int:
    text = replicaset["metadata"].get("annotations", {}).get(REVISION, "0")
    return int(text) if text.isdigit() else 0


def _restorable(replicaset: dict) -> dict:
    """A ReplicaSet's pod template as a Deployment's: without the controller's pod-template-hash."""
    template = copy.deepcopy(replicaset["spec"]["template"])
    template.get("metadata", {}).get("labels", {}).pop(HASH, None)
    return template


def _owned_by(replicaset: dict, deployment: str) -> bool:
    owners = replicaset["metadata"].get("ownerReferences") or []
    return any(o.get("kind") == "Deployment" and o.get("name") == deployment for o in owners)


def previous_template(replicasets: list[dict], deployment: str, revision: str) -> dict | None:
    """Pure: the pod template of the Deployment's revision before `revision` (what `kubectl
    rollout undo` restores); None when there is none. Only its own ReplicaSets count: selectors
    of two Deployments can overlap."""
    older = [rs for rs in replicasets if _owned_by(rs, deployment) and 0 < _revision_number(rs) < int(revision or 0)]
    return _restorable(max(older, key=_revision_number)) if older else None


def template_of_revision(replicasets: list[dict], deployment: str, revision: str) -> dict | None:
    """Pure: the pod template a Deployment had at `revision`, from its ReplicaSet; None when that
    ReplicaSet is gone (revisionHistoryLimit) or the revision is unknown."""
    return next((_restorable(rs) for rs in replicasets
                 if _owned_by(rs, deployment) and revision and str(_revision_number(rs)) == revision), None)
