"""The verify plugin: prove the new version is really serving and healthy — HTTP checks, the
version that answers, Prometheus queries over time, a no-restart soak — and roll back if not."""

from __future__ import annotations

import time
from typing import Callable

import requests

from drone_kit.analysis import QueryProgress, http_problems, measure, parse_queries
from drone_kit.card import write_card
from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.kube import Kube
from drone_kit.kubeconfig import api_client
from drone_kit.plugin import Plugin, PluginRun
from drone_kit.prometheus import instant_query
from drone_kit.results import read_result, write_result
from drone_kit.rollback import Restore, roll_back
from drone_kit.rollout import Limits
from drone_kit.settings import BOOL, DURATION, INT, LIST, MAPS, Setting
from drone_kit.soak import Soak

SOAK_POLL = 2.0  # seconds between looks at the new pods' restart counts

SETTINGS = (
    Setting("url", LIST, help="URL(s) that must answer; in-cluster service URLs work from the step."),
    Setting("expect_status", INT, default="200", help="HTTP status each URL must answer with."),
    Setting("expect_body", help="Text the body must contain, or a regex written as /…/."),
    Setting("expect_header", help='A header the answer must carry: "Name: value" (value as a substring) or "Name".'),
    Setting("expect_version", default_help="the git tag, else the short commit sha",
            help="The version the new deployment must report (needs version_url or version_header)."),
    Setting("version_url", help="URL whose body reports the serving version, e.g. http://app/version."),
    Setting("version_header", help="Response header of `url` that reports the serving version."),
    Setting("attempts", INT, default="10", help="Tries of the HTTP checks before they fail."),
    Setting("interval", DURATION, default="3s", help="Time between HTTP tries."),
    Setting("timeout", DURATION, default="5s", help="Timeout of each HTTP request."),
    Setting("prometheus", help="Prometheus base URL, e.g. http://prometheus.monitoring:9090."),
    Setting("queries", MAPS, help="Checks as {name, query, condition, interval, count, failure_limit, on_empty, "
                                  "on_nan}; e.g. condition '< 0.01', 5 runs 10s apart, fail after 2 bad."),
    Setting("soak", DURATION, help="Window in which no pod of the new ReplicaSet may restart."),
    Setting("rollback", BOOL, default="true", help="On failure, roll back what the deploy step changed."),
    Setting("kubeconfig", secret=True, default_help="the service account, else ~/.kube/config",
            help="Kubeconfig as YAML or base64, for soak and rollback."),
    Setting("context", help="Kubeconfig context to use."),
)


def run_verify(run: PluginRun, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> None:
    s, ctx = run.settings, run.context
    queries = parse_queries(s["queries"] or [])
    if not (s["url"] or s["version_url"] or queries or s["soak"]):
        raise SettingsError(["nothing to verify: set settings.url, settings.version_url, settings.queries or settings.soak"])
    if queries and not s["prometheus"]:
        raise DroneKitError("settings.queries needs settings.prometheus", hint="set prometheus: http://prometheus:9090")
    deployed = read_result(ctx.workspace, "deploy")
    if s["soak"] and not deployed:
        raise DroneKitError("settings.soak needs .drone-kit/deploy.json from a deploy step earlier in the pipeline")

    def kube() -> Kube:
        return Kube(api_client(s["kubeconfig"], s["context"], run.environ), run.say, sleep)

    soak = Soak(kube(), deployed, run.say) if s["soak"] else None
    checks: list[dict] = []
    outcome = _http_checks(run, checks, sleep)
    if outcome == "pass" and (queries or soak):
        outcome = _over_time(run, queries, soak, checks, clock, sleep)
    result = {"outcome": outcome, "checks": checks, "rollback": None}
    if outcome == "fail" and s["rollback"]:
        result["rollback"] = _roll_back(run, kube, deployed, clock, sleep)
    write_result(ctx.workspace, "verify", result)
    write_card(ctx.card_path, "verify", result, run.stdout, ctx.cards_url)
    if outcome == "pass":
        run.say(f"verified: {len(checks)} checks passed")
        return
    failed = [c for c in checks if c["outcome"] != "pass"]
    summary = "; ".join(f"{c['name']}: {c['value']} (expected {c['expected']})" for c in failed[-3:])
    if outcome == "inconclusive":
        raise DroneKitError(f"verification inconclusive: {summary}", hint="nothing was rolled back; check the queries")
    rolled = {"rolled-back": "; rolled back", "rollback-failed": "; THE ROLLBACK FAILED TOO"}.get(result["rollback"], "")
    raise DroneKitError(f"verification failed: {summary}{rolled}", hint="each check's line is above")


def _record(run: PluginRun, checks: list[dict], name: str, value: str, expected: str, outcome: str) -> None:
    checks.append({"name": name, "value": value, "expected": expected, "outcome": outcome})
    run.say(f"{outcome.upper():4} {name}: {value} (expected {expected})")


def _expected_version(run: PluginRun) -> str:
    return run.settings["expect_version"] or run.context.tag or run.context.short_sha


def _http_checks(run: PluginRun, checks: list[dict], sleep: Callable[[float], None]) -> str:
    s = run.settings
    urls, version = list(s["url"] or []), _expected_version(run)
    if not urls and not s["version_url"]:
        return "pass"
    if (s["version_url"] or s["version_header"]) and not version:
        raise DroneKitError("settings.expect_version: unknown (no tag or commit in this build)",
                            hint="set expect_version")
    session = requests.Session()
    timeout = s["timeout"].total_seconds()
    for attempt in range(1, s["attempts"] + 1):
        results = [_check_url(session, url, s, version, timeout) for url in urls]
        if s["version_url"]:
            results.append(_check_version_url(session, s["version_url"], version, timeout))
        if all(not problems for _, _, problems in results) or attempt == s["attempts"]:
            break
        run.say(f"attempt {attempt}/{s['attempts']}: " + "; ".join(f"{n}: {', '.join(p)}" for n, _, p in results if p))
        sleep(s["interval"].total_seconds())
    for name, value, problems in results:
        _record(run, checks, name, value if not problems else ", ".join(problems), _expectation(s, name, version),
                "fail" if problems else "pass")
    return "fail" if any(problems for _, _, problems in results) else "pass"


def _expectation(s: dict, name: str, version: str) -> str:
    if name.startswith("version "):
        return f"version {version}"
    parts = [f"status {s['expect_status']}"]
    parts += [f"body {s['expect_body']!r}"] if s["expect_body"] else []
    parts += [f"header {s['expect_header']!r}"] if s["expect_header"] else []
    parts += [f"{s['version_header']}: {version}"] if s["version_header"] else []
    return ", ".join(parts)


def _get(session: requests.Session, url: str, timeout: float):
    try:
        return session.get(url, timeout=timeout), None
    except requests.RequestException as e:
        return None, f"no answer ({type(e).__name__})"


def _check_url(session, url: str, s: dict, version: str, timeout: float) -> tuple[str, str, list[str]]:
    started = time.monotonic()
    response, error = _get(session, url, timeout)
    if response is None:
        return f"http {url}", error, [error]
    problems = http_problems(response.status_code, dict(response.headers), response.text, s["expect_status"],
                             s["expect_body"], s["expect_header"])
    if s["version_header"]:
        serving = response.headers.get(s["version_header"])
        if serving is None or version not in serving:
            problems.append(f"{s['version_header']} is {serving!r}: the old version still answers?")
    took = (time.monotonic() - started) * 1000
    return f"http {url}", f"{response.status_code} in {took:.0f} ms", problems


def _check_version_url(session, url: str, version: str, timeout: float) -> tuple[str, str, list[str]]:
    response, error = _get(session, url, timeout)
    if response is None:
        return f"version {url}", error, [error]
    serving = response.text.strip()[:200]
    problems = [] if version in serving else [f"{serving!r} answers: the old version still serving?"]
    return f"version {url}", serving, problems


def _over_time(run: PluginRun, queries, soak, checks: list[dict], clock, sleep) -> str:
    started = clock()
    progress = [QueryProgress(q) for q in queries]
    soak_until = started + run.settings["soak"].total_seconds() if soak else started
    next_soak_check = started
    while True:
        now = clock()
        for item in progress:
            query = item.query
            if item.verdict is None and now >= started + len(item.runs) * query.interval:
                try:
                    measurement = measure(query, instant_query(run.settings["prometheus"], query.query))
                except DroneKitError as e:
                    raise DroneKitError(f"settings.queries ({query.name}): {e.message}", hint=e.hint) from e
                item.add(measurement)
                run.say(f"{measurement.outcome.upper():4} {query.name} run {len(item.runs)}/{query.count}: "
                        f"{measurement.shown} (expected {query.condition}; bad {item.bad} of {query.failure_limit} allowed"
                        f" to fail)")
        if soak and now >= next_soak_check:
            next_soak_check = now + SOAK_POLL
            restart = soak.restarted()
            if restart:
                _record(run, checks, "soak", restart, "no restarts", "fail")
                return "fail"
        decided = [item.verdict for item in progress]
        if "fail" in decided or (None not in decided and now >= soak_until):
            break
        sleep(0.2)
    for item in progress:
        last = item.runs[-1]
        _record(run, checks, item.query.name, f"{last.shown} ({item.bad} bad of {len(item.runs)})",
                f"{item.query.condition}, fewer than {item.query.failure_limit} bad", item.verdict or "inconclusive")
    if soak:
        _record(run, checks, "soak", f"no restarts in {run.settings['soak'].total_seconds():g}s", "no restarts", "pass")
    verdicts = [item.verdict for item in progress]
    return "fail" if "fail" in verdicts else "inconclusive" if "inconclusive" in verdicts else "pass"


def _roll_back(run: PluginRun, kube: Callable[[], Kube], deployed: dict | None, clock, sleep) -> str:
    if not deployed:
        run.say("CANNOT ROLL BACK: no .drone-kit/deploy.json from a deploy step in this pipeline")
        return "rollback-failed"
    restores = [Restore(d["name"], d.get("template"), d["from_image"]) for d in deployed["deployments"]]
    outcome, _ = roll_back(kube(), deployed["namespace"], restores, Limits(), 300.0, run.say, clock, sleep)
    return outcome


VERIFY = Plugin(
    name="verify",
    summary="Prove the new version serves and stays healthy (HTTP, version, Prometheus, soak); roll back if not.",
    settings=SETTINGS,
    run=run_verify,
)
