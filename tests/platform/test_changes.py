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
