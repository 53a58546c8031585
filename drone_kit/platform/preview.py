"""`bootstrap --diff`: what a run would change, object by object, from a server-side dry run of
each apply against the live cluster. Applies nothing."""

from __future__ import annotations

from drone_kit.clients.cluster_objects import ClusterObjects, UnknownKind, describe
from drone_kit.clients.kube import KubeError
from drone_kit.platform.apply_defaults import with_defaulted_keys
from drone_kit.platform.changes import Change, change_of
from drone_kit.platform.install import Planned
from drone_kit.platform.phases import in_order


def preview(cluster: ClusterObjects, plan: list[Planned]) -> list[Change]:
    changes = []
    for planned in plan:
        for obj in in_order(planned.objects):
            meta = obj["metadata"]
            try:
                live = cluster.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            except UnknownKind:  # its CRD comes with this very run
                changes.append(Change("create", describe(obj)))
                continue
            if live is None:
                changes.append(Change("create", describe(obj)))
                continue
            try:
                dry_run = cluster.apply(with_defaulted_keys(obj), dry_run=True)
            except KubeError as e:  # a hand edit (409), a webhook not serving yet: the apply would stop here
                changes.append(Change("update", describe(obj), (f"the dry run was refused: {e.message}",)))
                continue
            changes.append(change_of(describe(obj), live, dry_run))
    return changes
