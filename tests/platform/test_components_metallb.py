"""MetalLB's component: the published manifest as it is applied, the pool and its advertisement,
and the decisions of the wait for its webhook. Pure: the manifest is read from the reference copy."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from drone_kit.errors import DroneKitError
from drone_kit.platform.components import metallb
from drone_kit.platform.config import MetallbSection, PlatformConfig
from drone_kit.platform.objects import UPSTREAM_ANNOTATION, is_upstream
from drone_kit.platform.phases import WEBHOOK_CHECKED, in_order, phase_of
from drone_kit.platform.upstream_manifest import parse_manifest
from drone_kit.platform.webhooks import webhook_not_ready
from tests.platform.test_upstream_manifest import reference_body

CONFIG = PlatformConfig()


@pytest.fixture(scope="module")
def upstream() -> list[dict]:
    return parse_manifest(reference_body().decode())


def named(objects: list[dict], kind: str, name: str) -> dict:
    return next(obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name)


def test_the_pool_and_its_advertisement_come_from_the_config():
    config = replace(CONFIG, metallb=MetallbSection(pool="10.0.0.0/28", pool_name="lab"))
    pool, advertisement = metallb.own_objects(config)
    assert (pool["apiVersion"], pool["kind"]) == ("metallb.io/v1beta1", "IPAddressPool")
    assert pool["metadata"]["name"] == "lab"
    assert pool["spec"] == {"addresses": ["10.0.0.0/28"]}
    assert advertisement["kind"] == "L2Advertisement" and advertisement["spec"] == {"ipAddressPools": ["lab"]}
    assert {pool["metadata"]["namespace"], advertisement["metadata"]["namespace"]} == {"metallb-system"}
    assert metallb.COMPONENT.render(config) == [pool, advertisement]


def test_the_default_pool_is_the_seed_platforms():
    pool = metallb.own_objects(CONFIG)[0]
    assert pool["metadata"]["name"] == "homelab-pool"
    assert pool["spec"]["addresses"] == ["192.168.1.200-192.168.1.210"]


def test_metallbs_objects_are_applied_as_published_and_marked(upstream):
    before = copy.deepcopy(upstream)
    rendered = metallb.render_with(CONFIG, upstream)
    assert upstream == before  # the parsed manifest is not changed
    assert len(rendered) == len(upstream) + 2
    assert [is_upstream(obj) for obj in rendered] == [True] * len(upstream) + [False, False]
    for published, applied in zip(upstream, rendered[:len(upstream)], strict=True):
        assert applied["metadata"]["annotations"][UPSTREAM_ANNOTATION] == "metallb v0.16.1"
        applied = copy.deepcopy(applied)
        del applied["metadata"]["annotations"][UPSTREAM_ANNOTATION]
        if not applied["metadata"]["annotations"]:
            del applied["metadata"]["annotations"]
        if applied["kind"] in ("Deployment", "DaemonSet"):  # only sized
            del applied["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert applied == published


def test_what_the_controller_fills_in_is_never_rendered(upstream):
    rendered = metallb.render_with(CONFIG, upstream)
    certificate = named(rendered, "Secret", metallb.WEBHOOK_CERT)
    assert not certificate.get("data") and not certificate.get("stringData")
    webhooks = named(rendered, "ValidatingWebhookConfiguration", "metallb-webhook-configuration")["webhooks"]
    assert all("caBundle" not in webhook["clientConfig"] for webhook in webhooks)


def test_the_controller_and_speaker_are_sized_probed_and_pinned(upstream):
    rendered = metallb.render_with(CONFIG, upstream)
    for kind, name in (("Deployment", "controller"), ("DaemonSet", "speaker")):
        (container,) = named(rendered, kind, name)["spec"]["template"]["spec"]["containers"]
        assert set(container["resources"]) == {"requests", "limits"}
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert container["readinessProbe"] and container["livenessProbe"]
        assert container["image"] == f"quay.io/metallb/{name}:v0.16.1"


def test_a_manifest_without_the_controller_is_refused(upstream):
    without = [obj for obj in upstream if obj["kind"] != "Deployment"]
    with pytest.raises(DroneKitError, match="no Deployment metallb-system/controller"):
        metallb.render_with(CONFIG, without)


def test_images_can_be_replaced_for_a_mirror(upstream):
    changed = metallb.override_images(upstream, {"controller": "mirror.lan/metallb/controller:v0.16.1",
                                                 "speaker": ""})
    images = {obj["kind"]: obj["spec"]["template"]["spec"]["containers"][0]["image"]
              for obj in changed if obj["kind"] in ("Deployment", "DaemonSet")}
    assert images == {"Deployment": "mirror.lan/metallb/controller:v0.16.1",
                      "DaemonSet": "quay.io/metallb/speaker:v0.16.1"}
    assert named(upstream, "Deployment", "controller")["spec"]["template"]["spec"]["containers"][0]["image"] \
        == "quay.io/metallb/controller:v0.16.1"


def test_the_webhook_checks_the_pool_and_advertisement_kinds(upstream):
    kinds = metallb.webhook_checked_kinds(upstream)
    assert {("metallb.io", "IPAddressPool"), ("metallb.io", "L2Advertisement"), ("metallb.io", "BGPPeer")} <= kinds
    # Status kinds the speaker writes are not validated.
    assert ("metallb.io", "ServiceL2Status") not in kinds and ("metallb.io", "ConfigurationState") not in kinds


def test_the_wait_goes_from_crds_to_rollouts_to_endpoints_to_accepted_dry_runs(upstream):
    steps = metallb.wait_plan(metallb.render_with(CONFIG, upstream))
    untils = [step.until for step in steps]
    assert untils == sorted(untils, key=["established", "rolled out", "endpoints ready", "accepted"].index)
    assert untils.count("established") == sum(obj["kind"] == "CustomResourceDefinition" for obj in upstream)
    assert [(step.kind, step.name) for step in steps if step.until != "established"] == [
        ("Deployment", "controller"), ("DaemonSet", "speaker"), ("Service", "metallb-webhook-service"),
        ("IPAddressPool", "homelab-pool"), ("L2Advertisement", "homelab-pool-l2")]
    assert {step.namespace for step in steps if step.until != "established"} == {"metallb-system"}


def test_the_installer_applies_the_pool_last_and_the_namespace_first(upstream):
    ordered = in_order(metallb.render_with(CONFIG, upstream))
    assert ordered[0]["kind"] == "Namespace"
    assert [obj["kind"] for obj in ordered[-2:]] == ["IPAddressPool", "L2Advertisement"]
    assert [phase_of(obj) for obj in metallb.own_objects(CONFIG)] == [WEBHOOK_CHECKED] * 2


@pytest.mark.parametrize(("obj", "ready"), [
    ({"kind": "Endpoints", "subsets": [{"notReadyAddresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 9443}]}]},
     False),
    ({"kind": "Endpoints", "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 9443}]}]}, True),
    ({"kind": "Endpoints"}, False),
    ({"kind": "EndpointSlice", "endpoints": [{"addresses": ["10.42.0.5"], "conditions": {"ready": False}}]}, False),
    ({"kind": "EndpointSlice", "endpoints": [{"addresses": ["10.42.0.5"], "conditions": {"ready": True}}]}, True),
    ({"kind": "EndpointSlice", "endpoints": [{"addresses": ["10.42.0.5"]}]}, True),  # unknown counts as ready
    ({"kind": "EndpointSlice", "endpoints": None}, False),
])
def test_the_webhook_service_has_a_ready_address(obj, ready):
    assert metallb.endpoints_ready(obj) is ready


HOOK = ('Internal error occurred: failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": failed to call '
        'webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-'
        'ipaddresspool?timeout=10s": ')


@pytest.mark.parametrize(("status", "message", "not_ready"), [
    # What the API server answers while MetalLB's webhook is not serving (metallb#1597, #1669, #2599).
    (500, HOOK + "dial tcp 10.43.12.7:443: connect: connection refused", True),
    (500, HOOK + "context deadline exceeded", True),
    (500, HOOK + 'no endpoints available for service "metallb-webhook-service"', True),
    # A verdict: the webhook served and refused the object; retrying cannot help.
    (403, 'admission webhook "ipaddresspoolvalidationwebhook.metallb.io" denied the request: '
          'parsing address pool: invalid CIDR "192.168.1.300/32"', False),
    (422, 'IPAddressPool.metallb.io "homelab-pool" is invalid: spec.addresses: Required value', False),
    (500, "etcdserver: request timed out", False),
])
def test_only_a_webhook_not_serving_yet_is_retried(status, message, not_ready):
    assert webhook_not_ready(status, message) is not_ready


def test_readiness_is_the_controller_and_the_speakers():
    assert [(w.kind, w.namespace, w.name) for w in metallb.COMPONENT.workloads(CONFIG)] == [
        ("Deployment", "metallb-system", "controller"), ("DaemonSet", "metallb-system", "speaker")]
