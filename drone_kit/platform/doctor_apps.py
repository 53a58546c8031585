"""`doctor`'s checks of the platform's own pieces (platform.md §9): 4 Gitea refusing webhooks to
private addresses, 5 Gitea's ROOT_URL and Drone's server host off the real addresses, 6 the Gitea
admin Job, 8 platform Secrets missing keys. Read from the live objects, not from what drone_kit
would render. Pure."""

from __future__ import annotations

import fnmatch
import ipaddress
import json

from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.component import GeneratedSecret
from drone_kit.platform.config import DRONE_NAMESPACE, GITEA_NAMESPACE, PlatformConfig
from drone_kit.platform.doctor_view import ClusterView
from drone_kit.platform.findings import Finding, failed, ok, warning
from drone_kit.platform.objects import Obj
from drone_kit.platform.secrets_store import missing_keys

# Gitea keys compared upper-cased: sections are written either way. Later Gitea reads the key from
# [security] and falls back to [webhook], where earlier Gitea reads it.
HOST_LISTS = ("GITEA__SECURITY__ALLOWED_HOST_LIST", "GITEA__WEBHOOK__ALLOWED_HOST_LIST")
ROOT_URL, DRONE_HOST, DRONE_GITEA = "GITEA__SERVER__ROOT_URL", "DRONE_SERVER_HOST", "DRONE_GITEA_SERVER"
RUN_AS_ROOT = "not supposed to be run as root"
MUST_CHANGE = ("must change your password",)  # Gitea's API refusal; the CLI's flag name would match a logged command


def live_env(view: ClusterView, namespace: str, marker: str) -> tuple[Obj, dict[str, str]] | None:
    """The Deployment in `namespace` whose first container's environment has `marker` (found
    by what it runs, whatever the name), and that environment with upper-cased Gitea keys."""
    for deployment in (d for d in view.deployments if facts.namespace_of(d) == namespace):
        containers = deployment["spec"]["template"]["spec"].get("containers") or []
        env = facts.container_env(containers[0], namespace, view.config_maps, view.secrets) if containers else {}
        env = {(key.upper() if key.startswith("GITEA__") else key): value for key, value in env.items()}
        if marker in env or any(key.startswith(marker) for key in env):
            return deployment, env
    return None


def host_list_allows(host_list: str, address: str, host: str = "") -> bool:
    """Pure: whether Gitea's ALLOWED_HOST_LIST lets hooks go to `address` (a private one), or to
    `host` by one of its name globs."""
    for item in (part.strip().lower() for part in host_list.split(",")):
        if item in ("*", "private") or item == address or (host and fnmatch.fnmatchcase(host.lower(), item)):
            return True
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False


def gitea_hosts(view: ClusterView, config: PlatformConfig) -> list[Finding]:
    """4: Gitea's default ALLOWED_HOST_LIST (external) drops webhooks to Drone's private address."""
    found = live_env(view, GITEA_NAMESPACE, "GITEA__")
    if found is None:
        return [ok("gitea webhooks", "Gitea is not installed")]
    deployment, env = found
    where = f"Deployment {GITEA_NAMESPACE}/{facts.name_of(deployment)}"
    fix = [f"set GITEA__webhook__ALLOWED_HOST_LIST=private and GITEA__security__ALLOWED_HOST_LIST=private in "
           f"{where}'s env: drone_kit bootstrap --only gitea"]
    host_list = next((env[key] for key in HOST_LISTS if key in env), None)
    if host_list is None:
        return [failed("gitea webhooks", f"{where} does not set ALLOWED_HOST_LIST: Gitea's default "
                       f"(external) refuses to deliver hooks to Drone at {config.drone.ip}", fix)]
    if not host_list_allows(host_list, config.drone.ip):
        return [failed("gitea webhooks", f"{where}'s ALLOWED_HOST_LIST {host_list!r} does not allow Drone at "
                       f"{config.drone.ip}", fix)]
    return [ok("gitea webhooks", f"ALLOWED_HOST_LIST {host_list!r} allows Drone at {config.drone.ip}")]


def _service_ip(view: ClusterView, namespace: str, wanted: str, key: str) -> list[Finding]:
    for service in (s for s in view.services if facts.namespace_of(s) == namespace
                    and (s.get("spec") or {}).get("type") == "LoadBalancer"):
        where, ips = f"Service {namespace}/{facts.name_of(service)}", facts.load_balancer_ips(service)
        if not ips:
            return [warning("urls", f"{where} has no address yet (it should get {wanted}, {key})",
                            ["see the load balancer and MetalLB checks above"])]
        if wanted not in ips:
            return [failed("urls", f"{where} got {', '.join(ips)}, not {wanted} ({key}): the URLs point where "
                           "nothing answers", [f"keep {key} inside metallb.pool and free of other Services, then "
                                               f"kubectl -n {namespace} delete service {facts.name_of(service)} "
                                               "and drone_kit bootstrap"])]
    return []


def urls(view: ClusterView, config: PlatformConfig) -> list[Finding]:
    """5: Gitea's ROOT_URL (clone URLs, OAuth redirects) and Drone's DRONE_SERVER_HOST must be
    the fixed addresses, and the Services must really have them."""
    findings = []
    gitea_url = config.gitea.root_url()
    gitea = live_env(view, GITEA_NAMESPACE, "GITEA__")
    if gitea and gitea[1].get(ROOT_URL, "").rstrip("/") != gitea_url.rstrip("/"):
        findings.append(failed("urls", f"Gitea's ROOT_URL is {gitea[1].get(ROOT_URL) or 'unset'}, not {gitea_url}: "
                               "clone URLs and Drone's login redirect go to the wrong place",
                               ["drone_kit bootstrap --only gitea"]))
    drone = live_env(view, DRONE_NAMESPACE, DRONE_HOST)
    if drone and drone[1].get(DRONE_HOST, "") not in (config.drone.ip, f"{config.drone.ip}:80"):
        findings.append(failed("urls", f"Drone's DRONE_SERVER_HOST is {drone[1].get(DRONE_HOST)!r}, not "
                               f"{config.drone.ip}: Gitea's hooks and OAuth redirects miss Drone",
                               ["drone_kit bootstrap --only drone"]))
    if drone and DRONE_GITEA in drone[1] and drone[1][DRONE_GITEA].rstrip("/") != gitea_url.rstrip("/"):
        findings.append(failed("urls", f"Drone's DRONE_GITEA_SERVER is {drone[1][DRONE_GITEA]}, not {gitea_url}",
                               ["drone_kit bootstrap --only drone"]))
    if gitea:
        findings += _service_ip(view, GITEA_NAMESPACE, config.gitea.ip, "gitea.ip")
    if drone:
        findings += _service_ip(view, DRONE_NAMESPACE, config.drone.ip, "drone.ip")
    return findings or [ok("urls", "Gitea's and Drone's URLs match their addresses")]


def gitea_admin(view: ClusterView, config: PlatformConfig) -> list[Finding]:
    """6: the admin Job ran the gitea CLI as root, or left the admin having to change its password."""
    findings = []
    gitea = live_env(view, GITEA_NAMESPACE, "GITEA__")
    exec_in = f"deploy/{facts.name_of(gitea[0]) if gitea else 'gitea'}"
    for job in (j for j in view.jobs if facts.namespace_of(j) == GITEA_NAMESPACE):
        name, status = facts.name_of(job), job.get("status") or {}
        logs = "\n".join(text for key, text in view.logs.items() if key.startswith(f"{GITEA_NAMESPACE}/{name}-"))
        lower, where = logs.lower(), f"Job {GITEA_NAMESPACE}/{name}"
        if RUN_AS_ROOT in lower:
            findings.append(failed("gitea admin", f"{where}: the gitea CLI refused to run as root", [
                "the Job must run it as the git user (runAsUser: 1000 with the rootful image); after fixing, "
                f"kubectl -n {GITEA_NAMESPACE} delete job {name} && drone_kit bootstrap --only gitea"]))
        elif any(words in lower for words in MUST_CHANGE):
            findings.append(failed("gitea admin", f"{where}: the admin {config.gitea.admin_user} must change its "
                                   "password first (--must-change-password defaults to true), so the API refuses it", [
                f"kubectl -n {GITEA_NAMESPACE} exec {exec_in} -- su git -c "
                f"'gitea admin user must-change-password --unset {config.gitea.admin_user}'"]))
        elif status.get("failed") and not status.get("succeeded"):
            last = [line for line in logs.splitlines() if line.strip()][-3:]
            findings.append(failed("gitea admin", f"{where} failed: {' | '.join(last) or 'no log'}",
                                   [f"kubectl -n {GITEA_NAMESPACE} logs job/{name}"]))
    return findings or [ok("gitea admin", "no Gitea admin Job failed")]


def platform_secrets(view: ClusterView, expected: list[GeneratedSecret]) -> list[Finding]:
    """8: a generated Secret deleted or missing keys (every component holding the old values breaks)."""
    findings = []
    for spec in expected:
        where = f"Secret {spec.namespace}/{spec.name}"
        live = next((s for s in view.secrets if facts.name_of(s) == spec.name
                     and facts.namespace_of(s) == spec.namespace), None)
        if live is None:
            findings.append(failed("secrets", f"{where} is missing: the next bootstrap generates new values, which "
                                   "data made with the old ones will not match", [
                "restore it from a backup first if you have one (kubectl apply -f), then drone_kit bootstrap"]))
            continue
        lacking = missing_keys(spec, live)
        empty = [k for k, v in (live.get("data") or {}).items() if not v and k in (*spec.keys, *dict(spec.fixed))]
        if lacking:
            findings.append(failed("secrets", f"{where} lacks {', '.join(lacking)}",
                                   ["drone_kit bootstrap adds missing keys and keeps the others"]))
        if empty:
            findings.append(failed("secrets", f"{where} has empty {', '.join(empty)}", [
                f"kubectl -n {spec.namespace} patch secret {spec.name} --type json -p "
                f"'{json.dumps([{'op': 'remove', 'path': f'/data/{key}'} for key in empty])}'",
                "then drone_kit bootstrap generates them again"]))
    if not expected:
        return [ok("secrets", "no generated Secrets to check")]
    return findings or [ok("secrets", f"all {len(expected)} generated Secrets are complete")]
