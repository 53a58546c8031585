"""A Deployment's revisions, from its ReplicaSets: only its own, by revision number."""

from __future__ import annotations

from drone_kit.rollouts.revisions import previous_template, template_of_revision


def rs(revision: str, image: str, owner: str = "web") -> dict:
    return {"metadata": {"annotations": {"deployment.kubernetes.io/revision": revision},
                         "ownerReferences": [{"kind": "Deployment", "name": owner}]},
            "spec": {"template": {"metadata": {"labels": {"app": "a", "pod-template-hash": "h"}},
                                  "spec": {"containers": [{"name": "a", "image": image}]}}}}


def image(template: dict | None) -> str | None:
    return None if template is None else template["spec"]["containers"][0]["image"]


def test_previous_template_is_the_revision_before():
    found = previous_template([rs("3", "v3"), rs("1", "v1"), rs("4", "v4"), rs("2", "v2")], "web", "4")
    assert image(found) == "v3" and found["metadata"]["labels"] == {"app": "a"}
    assert previous_template([rs("4", "v4")], "web", "4") is None


def test_another_deployments_replicasets_never_count():
    # Two Deployments whose selectors overlap: the other one's revision 3 is not ours.
    replicasets = [rs("3", "other:v3", owner="web-canary"), rs("2", "v2"), rs("4", "v4")]
    assert image(previous_template(replicasets, "web", "4")) == "v2"
    assert image(template_of_revision(replicasets, "web", "3")) is None
    assert image(template_of_revision(replicasets, "web", "2")) == "v2"
    assert template_of_revision(replicasets, "web", "") is None
