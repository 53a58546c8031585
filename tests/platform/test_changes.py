"""What `bootstrap --diff` reports, from a live object and the server's dry run of the apply."""

from __future__ import annotations

from drone_kit.platform.changes import Change, change_lines, change_of, changed_paths

LIVE = {"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a", "resourceVersion": "10", "generation": 3,
                     "managedFields": [{"manager": "drone-kit"}], "labels": {"app": "web"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}},
        "status": {"availableReplicas": 1}}


def dry_run(**changes) -> dict:
    result = {**LIVE, "metadata": {**LIVE["metadata"], "resourceVersion": "11", "managedFields": []},
              "status": {"availableReplicas": 0}}
    result["spec"] = {**LIVE["spec"], **changes}
    return result


def test_an_object_that_does_not_exist_is_created():
    assert change_of("Deployment a/web", None, LIVE) == Change("create", "Deployment a/web")


def test_server_kept_fields_and_status_are_no_change():
    assert change_of("Deployment a/web", LIVE, dry_run()).action == "unchanged"


def test_an_update_names_the_fields_that_change():
    after = dry_run(replicas=2, template={"spec": {"containers": [{"name": "web", "image": "web:2"}]}})
    change = change_of("Deployment a/web", LIVE, after)
    assert change.action == "update"
    assert change.fields == ("spec.replicas", "spec.template.spec.containers[0].image")


def test_added_and_removed_keys_and_resized_lists_are_changes():
    assert changed_paths({"a": 1}, {"b": 1}) == ["a", "b"]
    assert changed_paths({"l": [1]}, {"l": [1, 2]}) == ["l"]
    assert changed_paths([1, 2], [1, 2]) == []


def test_the_plan_reads_as_a_table_with_a_summary():
    lines = change_lines([Change("create", "Namespace gitea"), Change("update", "Deployment a/web", ("spec.replicas",)),
                          Change("unchanged", "Service a/web")])
    assert lines == ["+ create    Namespace gitea", "~ update    Deployment a/web", "      spec.replicas",
                     "= unchanged Service a/web", "1 to create, 1 to update, 1 unchanged"]


def test_ports_get_the_protocol_the_server_would_default_and_nothing_else_changes():
    from drone_kit.platform.apply_defaults import with_defaulted_keys
    service = {"kind": "Service", "spec": {"ports": [{"port": 443, "targetPort": 9443},
                                                     {"port": 53, "protocol": "UDP"}]}}
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
        {"name": "c", "ports": [{"containerPort": 9120}]}, {"name": "d"}]}}}}
    assert with_defaulted_keys(service)["spec"]["ports"] == [{"port": 443, "targetPort": 9443, "protocol": "TCP"},
                                                             {"port": 53, "protocol": "UDP"}]
    assert with_defaulted_keys(deployment)["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 9120, "protocol": "TCP"}]
    assert "protocol" not in service["spec"]["ports"][0]  # a copy: the rendered object stays as rendered
    assert with_defaulted_keys({"kind": "ConfigMap", "data": {}}) == {"kind": "ConfigMap", "data": {}}


def test_quantities_are_applied_as_the_server_stores_them_and_nulls_are_left_out():
    """Either one would move the object's resourceVersion on every re-run (found on the real node:
    Gitea's "1000m" and MetalLB's `creationTimestamp: null`)."""
    from drone_kit.platform.apply_defaults import with_defaulted_keys
    deployment = {"kind": "Deployment", "metadata": {"name": "a", "creationTimestamp": None}, "spec": {"template": {
        "spec": {"initContainers": [{"name": "i", "resources": {"limits": {"cpu": "1000m", "memory": "1024Mi"}}}],
                 "containers": [{"name": "c", "resources": {"requests": {"cpu": "0.5", "memory": "192Mi"}}}]}}}}
    claim = {"kind": "PersistentVolumeClaim", "spec": {"resources": {"requests": {"storage": "10240Mi"}}}}
    applied = with_defaulted_keys(deployment)
    assert applied["metadata"] == {"name": "a"}
    pod = applied["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert pod["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "192Mi"}
    assert with_defaulted_keys(claim)["spec"]["resources"]["requests"] == {"storage": "10Gi"}
    assert deployment["metadata"]["creationTimestamp"] is None  # a copy: the rendered object stays as rendered


def test_every_rendered_quantity_is_already_in_the_form_the_server_stores():
    """So `drone_kit render` output, applied by kubectl or a GitOps tool, re-applies as a no-op too."""
    from drone_kit.platform import catalog
    from drone_kit.platform.config import PlatformConfig
    from drone_kit.platform.footprint import pod_spec
    from drone_kit.platform.quantities import canonical
    plan = catalog.plan(PlatformConfig(), [c for c in catalog.COMPONENTS if c.name != "metallb"], lambda c, p: [])
    found = 0
    for obj in (obj for planned in plan for obj in planned.objects):
        spec = pod_spec(obj) or {}
        blocks = [c.get("resources") or {} for c in [*spec.get("containers", []), *spec.get("initContainers", [])]]
        if obj["kind"] == "PersistentVolumeClaim":
            blocks.append(obj["spec"]["resources"])
        for amounts in (block.get(key) or {} for block in blocks for key in ("requests", "limits")):
            for amount in amounts.values():
                found += 1
                assert canonical(amount) == amount, f"{obj['kind']} {obj['metadata']['name']}: {amount}"
    assert found > 40


def test_an_apply_that_would_move_only_a_timestamp_writes_nothing_new():
    from drone_kit.platform.changes import writes_nothing_new
    owned = {"manager": "drone-kit", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}
    live = {"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "7", "managedFields": [
        {**owned, "time": "2026-11-27T10:00:00Z"}]}, "data": {"k": "v"}}
    later = {**owned, "time": "2026-11-27T11:00:00Z"}
    assert writes_nothing_new(live, {**live, "metadata": {**live["metadata"], "managedFields": [later]}})
    assert not writes_nothing_new(live, {**live, "data": {"k": "w"}})
    # the same content, but the apply would take fields over from another manager: a write that counts
    by_hand = {**live, "metadata": {**live["metadata"], "managedFields": [
        {**owned, "manager": "kubectl-edit", "operation": "Update", "time": "2026-11-27T10:00:00Z"}]}}
    assert not writes_nothing_new(by_hand, {**live, "metadata": {**live["metadata"], "managedFields": [later]}})
