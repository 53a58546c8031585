"""`doctor`'s check of the hooks that feed Drone: for each repository wired to Drone (a hook in
Gitea to the shim), whether its pushes reach the shim and how Drone answered the shim, each
failure explained with its fix.

It sends nothing. Gitea's REST API lists no deliveries of a hook (its web UI alone shows them),
and Gitea's test delivery (POST …/hooks/{id}/tests) is a push of the default branch's head commit
(`before` = `after` = that commit), which the shim relays and Drone builds, and deploys, like any
push. So the check weighs evidence instead (doctor_hooks_view): a default branch whose head is
newer than the last hook the shim recorded of its repository did not get its push delivered; the
shim's record says how Drone answered each hook; the shim counts the hooks it refused for a bad
signature; and the cluster shows Gitea's ALLOWED_HOST_LIST and the shim's address. Pure."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.components import shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, GITEA_NAMESPACE
from drone_kit.platform.doctor_apps import HOST_LISTS, host_list_allows, live_env
from drone_kit.platform.doctor_hooks_view import HooksView, WiredRepo
from drone_kit.platform.doctor_view import ClusterView
from drone_kit.platform.findings import Finding, failed, ok, warning
from drone_kit.platform.hook_answers import CHECK, drone_answers, hooks_count, resign_fix, when
from drone_kit.platform.repo_plan import hook_problem, hooks_to_shim
from drone_kit.platform.wiring_plan import SHIM_URL

SHIM_HOST = urlsplit(SHIM_URL).hostname or ""
CLOCK_SKEW = 300.0  # how far the committer's, Gitea's and the shim's clocks may disagree
HOOK_MARGIN = 30.0  # a commit dated this soon after its hook was made may have been pushed before it
IN_FLIGHT = 60.0  # a commit dated this recently may have been pushed a moment ago: its hook may be on its way


def _epoch(text: object) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def hook_page(gitea_url: str, repo: WiredRepo) -> str:
    """Where Gitea shows the hook and its Recent Deliveries."""
    ours = hooks_to_shim(repo.hooks)
    return f"{gitea_url.rstrip('/')}/{repo.name}/settings/hooks" + (f"/{ours[0].get('id')}" if ours else "")


def host_list_refusal(view: ClusterView) -> str | None:
    """Gitea's ALLOWED_HOST_LIST (default `external`) refusing the shim Service's address."""
    gitea = live_env(view, GITEA_NAMESPACE, "GITEA__")
    service = next((s for s in view.services if facts.namespace_of(s) == DRONE_KIT_NAMESPACE
                    and facts.name_of(s) == shim.NAME), {})
    address = str((service.get("spec") or {}).get("clusterIP") or "")
    if gitea is None or address in ("", "None"):
        return None
    deployment, env = gitea
    host_list = next((env[key] for key in HOST_LISTS if key in env), "external")
    if host_list_allows(host_list, address, SHIM_HOST):
        return None
    return (f"Gitea's ALLOWED_HOST_LIST {host_list!r} refuses the shim at {address} ({SHIM_HOST}): set "
            "GITEA__webhook__ALLOWED_HOST_LIST=private and GITEA__security__ALLOWED_HOST_LIST=private in "
            f"Deployment {GITEA_NAMESPACE}/{facts.name_of(deployment)}'s env: drone_kit bootstrap --only gitea")


def _signature_lines(seen: HooksView, repo: str, page: str) -> list[str]:
    return [f"the shim refused {hooks_count(seen.signature_refusals or 0)} with a bad signature since it started: "
            f"{repo}'s hook is likely signed with another secret than the shim's", *resign_fix(repo, page)]


def _undelivered_push(repo: WiredRepo, records: list[dict], seen: HooksView) -> str | None:
    """A head commit dated after the hook was made, long enough ago, inside the record read,
    with no hook of the repository recorded since (clocks allowing)."""
    commit = (repo.head or {}).get("commit") or {}
    dated = _epoch(commit.get("timestamp"))
    made = [m for m in (_epoch(h.get("created_at")) for h in hooks_to_shim(repo.hooks) if h.get("active")) if m]
    if seen.deliveries is None or dated is None or not made or dated < min(made) + HOOK_MARGIN or \
            dated > seen.read_at - IN_FLIGHT or dated - CLOCK_SKEW < seen.covered_since:
        return None
    if any(float(r.get("received") or 0) >= dated - CLOCK_SKEW for r in records):
        return None
    return (f"{str(commit.get('id'))[:8]} on {(repo.head or {}).get('name')} (dated {when(dated)}) has no hook in "
            "the shim's record: Gitea did not deliver its push, or the shim refused it")


def _undelivered_fix(view: ClusterView, seen: HooksView, repo: str, page: str) -> list[str]:
    refusal = host_list_refusal(view)
    return [*([refusal] if refusal else []), *(_signature_lines(seen, repo, page) if seen.signature_refusals else []),
            f"Gitea keeps what happened under the hook's Recent Deliveries: {page}",
            "  'webhook can only call allowed HTTP servers': ALLOWED_HOST_LIST; 'no such host': Gitea's pod cannot "
            f"resolve {SHIM_HOST}; 'connection refused' or a timeout: the shim is down (drone_kit status); "
            "HTTP 401: the hook's secret is not the shim's"]


def _repo(view: ClusterView, seen: HooksView, repo: WiredRepo, records: list[dict]) -> list[Finding]:
    page = hook_page(seen.gitea_url, repo)
    found = []
    problem = hook_problem(repo.hooks) if repo.hooks else None
    if problem:
        found.append(failed(CHECK, f"{repo.name}: {problem}", [
            f"delete the hook in Gitea ({page}), then drone_kit wire repo {repo.name}"
            if problem.endswith("not sent on push")
            else f"drone_kit wire repo {repo.name}  (activated again, Drone leaves one live hook)"]))
    missing = _undelivered_push(repo, records, seen)
    if missing:
        found.append(failed(CHECK, f"{repo.name}: {missing}", _undelivered_fix(view, seen, repo.name, page)))
    return found + drone_answers(repo.name, records, page)


def hooks(view: ClusterView, seen: HooksView) -> list[Finding]:
    """Every wired repository's hooks; then what the shim or Gitea show that no repository explained."""
    if not seen.wired:
        return [ok(CHECK, "Gitea and Drone are not wired yet (drone_kit wire): no hooks to check")]
    findings = []
    if seen.gitea_error:
        findings.append(warning(CHECK, f"Gitea could not say which repositories are wired: {seen.gitea_error}", [
            "give doctor --gitea-url where this machine reaches Gitea; meanwhile only the shim's record is checked"]))
    if seen.deliveries is None:
        findings.append(warning(CHECK, f"the shim's record of hooks could not be read ({seen.shim_error})", [
            "drone_kit status  (while the shim is down, Gitea's hooks are lost: Gitea does not send them again)"]))
    records: dict[str, list[dict]] = {}  # by lower-case name: Gitea's names are case-insensitive
    spelled: dict[str, str] = {}
    for record in seen.deliveries or []:
        name = str(record.get("repo") or "")
        records.setdefault(name.lower(), []).append(record)
        spelled.setdefault(name.lower(), name)
    repos = seen.repos if not seen.gitea_error else [WiredRepo(spelled[key], []) for key in sorted(records)]
    for repo in repos:
        findings += _repo(view, seen, repo, records.get(repo.name.lower(), []))
    explained = " ".join(line for f in findings for line in f.fix)
    refusal = host_list_refusal(view)
    if repos and refusal and refusal not in explained:
        findings.append(failed(CHECK, "Gitea will not deliver hooks to the shim", [refusal]))
    if seen.signature_refusals and "bad signature" not in explained:
        findings.append(warning(CHECK, f"the shim refused {hooks_count(seen.signature_refusals)} with a bad "
                                "signature since it started: a hook in Gitea is signed with another secret than the "
                                "shim's", [
            *resign_fix("OWNER/NAME", f"{seen.gitea_url.rstrip('/')}/OWNER/NAME/settings/hooks"),
            "which repository: the one whose pushes have no hook in the shim's record (GET /deliveries)"]))
    if findings:
        return findings
    if not repos:
        return [ok(CHECK, "no repository has a hook to the shim yet (drone_kit wire repo OWNER/NAME)")]
    wired = f"{len(repos)} repositories" if len(repos) > 1 else "1 repository"
    return [ok(CHECK, f"{wired} wired to Drone: pushes reach the shim, and Drone took the latest hook of each")]
