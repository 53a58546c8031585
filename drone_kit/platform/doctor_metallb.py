"""`doctor`'s checks of MetalLB (platform.md §9): 2 its webhook not serving or its pool and
advertisement missing, 8 its webhook certificate or caBundle wiped by a re-run that replaced
its objects. Pure."""

from __future__ import annotations

from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.config import METALLB_NAMESPACE, PlatformConfig
from drone_kit.platform.doctor_view import ClusterView
from drone_kit.platform.findings import Finding, failed, ok, warning
from drone_kit.rollouts.lines import pod_line

WEBHOOK_SERVICE, WEBHOOK_CERT = "metallb-webhook-service", "metallb-webhook-cert"
WEBHOOK_CONFIG = "metallb-webhook-configuration"


def metallb(view: ClusterView, config: PlatformConfig) -> list[Finding]:
    """2: MetalLB's webhook not serving, or its pool/advertisement missing."""
    if view.pools is None:
        return [failed("metallb", "MetalLB is not installed (the API serves no IPAddressPool)",
                       ["drone_kit bootstrap --only metallb"])]
    findings = []
    endpoints = next((e for e in view.endpoints if facts.name_of(e) == WEBHOOK_SERVICE), {})
    if not any(subset.get("addresses") for subset in endpoints.get("subsets") or []):
        controllers = [f"{facts.name_of(p)}: {pod_line(p)}" for p in view.pods if facts.namespace_of(p) ==
                       METALLB_NAMESPACE and facts.labels_of(p).get("component") == "controller"]
        findings.append(failed("metallb", f"MetalLB's webhook has no ready endpoint (Service {WEBHOOK_SERVICE}): "
                               "pools and advertisements are refused with \"failed calling webhook\"",
                               [f"its controller: {'; '.join(controllers) or 'no pod'}",
                                "wait for it, then run drone_kit bootstrap --only metallb again (it retries until "
                                "the webhook accepts the pool)"]))
    pool = next((p for p in view.pools if facts.name_of(p) == config.metallb.pool_name), None)
    if pool is None:
        findings.append(failed("metallb", f"IPAddressPool {config.metallb.pool_name} is missing: no LoadBalancer "
                               "Service gets an address", ["drone_kit bootstrap --only metallb"]))
    elif ",".join(addresses := (pool.get("spec") or {}).get("addresses") or []) != config.metallb.pool:
        findings.append(warning("metallb", f"IPAddressPool {config.metallb.pool_name} has {', '.join(addresses)}, "
                                f"platform.yaml says {config.metallb.pool}",
                                ["drone_kit bootstrap --only metallb applies platform.yaml's"]))
    if pool is not None and not any(config.metallb.pool_name in ((a.get("spec") or {}).get("ipAddressPools") or [])
                                    or not (a.get("spec") or {}).get("ipAddressPools")
                                    for a in view.advertisements or []):
        findings.append(failed("metallb", f"no L2Advertisement announces {config.metallb.pool_name}: its "
                               "addresses are given out but nothing answers ARP for them",
                               ["drone_kit bootstrap --only metallb"]))
    return findings or [ok("metallb", f"the webhook serves and {config.metallb.pool_name} is announced")]


def metallb_certs(view: ClusterView) -> list[Finding]:
    """8: MetalLB's webhook certificate or caBundle emptied (a replace or delete-and-apply of its manifest)."""
    if view.pools is None:
        return [ok("metallb certificate", "MetalLB is not installed")]
    secret = next((s for s in view.secrets if facts.name_of(s) == WEBHOOK_CERT
                   and facts.namespace_of(s) == METALLB_NAMESPACE), None)
    config = next((w for w in view.webhooks if facts.name_of(w) == WEBHOOK_CONFIG), {})
    no_bundle = any(not (w.get("clientConfig") or {}).get("caBundle") for w in config.get("webhooks") or [])
    empty = [what for what, bad in [(f"Secret {WEBHOOK_CERT} is missing", secret is None),
                                    (f"Secret {WEBHOOK_CERT} is empty", secret is not None and not secret.get("data")),
                                    (f"{WEBHOOK_CONFIG} has webhooks without a caBundle", no_bundle)] if bad]
    if not empty:
        return [ok("metallb certificate", "the webhook's certificate and caBundle are in place")]
    return [failed("metallb certificate", f"{'; '.join(empty)}: MetalLB's controller fills these, and a replace of its "
                   "manifest wipes them", ["kubectl -n metallb-system rollout restart deployment controller "
                                           "(it writes them again at start)",
                                           "never `kubectl replace` or delete-and-apply MetalLB's objects; drone_kit "
                                           "applies them server-side, which leaves these fields alone"])]
