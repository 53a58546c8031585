"""The verify plugin's HTTP checks: each URL answers as expected, and the version that answers
is this build's, tried until they pass or the attempts run out."""

from __future__ import annotations

from collections.abc import Callable

from drone_kit.clients.web import WebClient
from drone_kit.errors import DroneKitError
from drone_kit.plugins.verify.analysis import http_problems
from drone_kit.step.plugin import PluginRun


def record(run: PluginRun, checks: list[dict], name: str, value: str, expected: str, outcome: str) -> None:
    checks.append({"name": name, "value": value, "expected": expected, "outcome": outcome})
    run.say(f"{outcome.upper():4} {name}: {value} (expected {expected})")


def _expected_version(run: PluginRun) -> str:
    return run.settings["expect_version"] or run.context.tag or run.context.short_sha


def http_checks(run: PluginRun, checks: list[dict], sleep: Callable[[float], None]) -> str:
    s = run.settings
    urls, version = list(s["url"] or []), _expected_version(run)
    if not urls and not s["version_url"]:
        return "pass"
    if (s["version_url"] or s["version_header"]) and not version:
        raise DroneKitError("settings.expect_version: unknown (no tag or commit in this build)",
                            hint="set expect_version")
    web = WebClient(s["timeout"].total_seconds())
    for attempt in range(1, s["attempts"] + 1):
        results = [_check_url(web, url, s, version) for url in urls]
        if s["version_url"]:
            results.append(_check_version_url(web, s["version_url"], version))
        if all(not problems for _, _, problems in results) or attempt == s["attempts"]:
            break
        run.say(f"attempt {attempt}/{s['attempts']}: " + "; ".join(f"{n}: {', '.join(p)}" for n, _, p in results if p))
        sleep(s["interval"].total_seconds())
    for name, value, problems in results:
        record(run, checks, name, value if not problems else ", ".join(problems), _expectation(s, name, version),
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


def _check_url(web: WebClient, url: str, s: dict, version: str) -> tuple[str, str, list[str]]:
    answer = web.get(url)
    if isinstance(answer, str):
        return f"http {url}", answer, [answer]
    problems = http_problems(answer.status, dict(answer.headers), answer.text, s["expect_status"], s["expect_body"],
                             s["expect_header"])
    if s["version_header"]:
        serving = answer.headers.get(s["version_header"])
        if serving is None or version not in serving:
            problems.append(f"{s['version_header']} is {serving!r}: the old version still answers?")
    return f"http {url}", f"{answer.status} in {answer.milliseconds:.0f} ms", problems


def _check_version_url(web: WebClient, url: str, version: str) -> tuple[str, str, list[str]]:
    answer = web.get(url)
    if isinstance(answer, str):
        return f"version {url}", answer, [answer]
    serving = answer.text.strip()[:200]
    problems = [] if version in serving else [f"{serving!r} answers: the old version still serving?"]
    return f"version {url}", serving, problems
