"""How Drone's runner would run a pipeline, decided before anything runs. Pure.

Substitution (`${DRONE_COMMIT_SHA:0:8}`), trigger and `when` conditions (globs, include/exclude),
the order of steps (`depends_on`), and each step's environment: DRONE_* variables, `environment`,
and `settings` encoded as Drone encodes them (PLUGIN_<NAME>; scalar lists joined with commas,
maps and lists of maps as JSON), `from_secret` resolved.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from drone_kit.errors import DroneKitError
from drone_kit.pipelines.keys import LOCAL_STEP_KEYS
from drone_kit.step.settings import encode_setting

_SUBSTITUTION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::(-?\d+)(?::(\d+))?)?\}")


def substitute(text: str, variables: dict[str, str]) -> str:
    """Pure: Drone's substitution in the raw .drone.yml: ${VAR}, ${VAR:offset}, ${VAR:offset:length}, $$ → $."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        value = variables.get(match.group(1), "")
        if match.group(2) is not None:
            start = int(match.group(2))
            value = value[start:] if match.group(3) is None else value[start:start + int(match.group(3))]
        return value
    return _SUBSTITUTION.sub(replace, text)


def matches(condition: str | list[Any] | dict[str, Any] | None, value: str) -> bool:
    """Pure: one condition (a glob, a list of globs, or {include, exclude}) against a value."""
    if condition is None:
        return True
    if isinstance(condition, str):
        condition = [condition]
    if isinstance(condition, list):
        return any(fnmatch.fnmatch(value, str(pattern)) for pattern in condition)
    include, exclude = condition.get("include"), condition.get("exclude")
    if include is not None and not matches(include, value):
        return False
    return not (exclude is not None and matches(exclude, value))


def conditions_hold(conditions: dict | None, facts: dict[str, str]) -> bool:
    """Pure: every condition of a trigger or `when` holds for the facts (branch, event, ref, status…)."""
    return all(matches(value, facts.get(key, "")) for key, value in (conditions or {}).items() if key in facts)


def resolve(value: Any, secrets: dict[str, str], where: str) -> Any:
    if isinstance(value, dict) and set(value) == {"from_secret"}:
        if value["from_secret"] not in secrets:
            raise DroneKitError(f"{where}: secret {value['from_secret']!r} is not given",
                                hint=f"--secret {value['from_secret']}=VALUE or --secrets-file FILE")
        return secrets[value["from_secret"]]
    return value


@dataclass(frozen=True)
class Step:
    name: str
    image: str
    commands: list[str]
    environment: dict[str, str]
    depends_on: list[str]
    when: dict
    ignore_failure: bool
    privileged: bool
    volumes: list[dict] = field(default_factory=list)
    pull: str = "if-not-exists"


def step_volumes(pipeline: dict, raw: list[dict], at: str, trusted: bool, prefix: str) -> list[dict]:
    """Pure: a step's volumes as {host, path}: a pipeline `host` volume (trusted only), or a
    `temp` one as a Docker volume named `prefix-name`."""
    declared = {v.get("name"): v for v in pipeline.get("volumes") or []}
    mounts = []
    for volume in raw:
        source = declared.get(volume.get("name"))
        if source is None:
            raise DroneKitError(f"{at}.volumes: {volume.get('name')!r} is not in the pipeline's volumes")
        if "host" in source:
            if not trusted:
                raise DroneKitError(f"{at}.volumes: host volume {volume['name']!r} needs a trusted repository",
                                    hint="add --trusted to drone_kit exec")
            mounts.append({"host": source["host"]["path"], "path": volume["path"]})
        else:
            mounts.append({"host": f"{prefix}-{volume['name']}", "path": volume["path"]})
    return mounts


def plan_steps(pipeline: dict, where: str, secrets: dict[str, str], base_env: dict[str, str], trusted: bool,
               key: str = "steps", volume_prefix: str = "drone-kit-exec") -> list[Step]:
    """Pure: the steps (or services) in the order a sequential runner takes them."""
    steps = []
    for index, raw in enumerate(pipeline.get(key) or []):
        at = f"{where}.{key}[{index}] ({raw.get('name', '?')})"
        unknown = sorted(set(raw) - LOCAL_STEP_KEYS)
        if unknown:
            raise DroneKitError(f"{at}.{unknown[0]}: not supported by drone_kit exec",
                                hint="remove it for a local run, or run the pipeline in Drone")
        if raw.get("privileged") and not trusted:
            raise DroneKitError(f"{at}.privileged: needs a trusted repository", hint="add --trusted to drone_kit exec")
        env = dict(base_env, DRONE_STEP_NAME=str(raw.get("name", "")))
        env.update({k: encode_setting(resolve(v, secrets, f"{at}.environment.{k}"))
                    for k, v in (pipeline.get("environment") or {}).items()})
        env.update({k: encode_setting(resolve(v, secrets, f"{at}.environment.{k}"))
                    for k, v in (raw.get("environment") or {}).items()})
        env.update({f"PLUGIN_{k.upper()}": encode_setting(resolve(v, secrets, f"{at}.settings.{k}"))
                    for k, v in (raw.get("settings") or {}).items() if v is not None})
        steps.append(Step(str(raw.get("name", f"step{index}")), str(raw.get("image", "")),
                          [str(c) for c in raw.get("commands") or []], env, list(raw.get("depends_on") or []),
                          dict(raw.get("when") or {}), raw.get("failure") == "ignore", bool(raw.get("privileged")),
                          step_volumes(pipeline, raw.get("volumes") or [], at, trusted, volume_prefix),
                          str(raw.get("pull") or "if-not-exists")))
    return _ordered(steps, where)


def _ordered(steps: list[Step], where: str) -> list[Step]:
    """Steps in an order that respects depends_on (a missing or circular dependency is an error)."""
    names = {s.name for s in steps}
    for step in steps:
        for dependency in step.depends_on:
            if dependency not in names:
                raise DroneKitError(f"{where}: step {step.name!r} depends on {dependency!r}, which does not exist")
    ordered: list[Step] = []
    done: set[str] = set()
    while len(ordered) < len(steps):
        ready = [s for s in steps if s.name not in done and set(s.depends_on) <= done]
        if not ready:
            raise DroneKitError(f"{where}: depends_on goes in a circle among "
                                + ", ".join(s.name for s in steps if s.name not in done))
        ordered.append(ready[0])
        done.add(ready[0].name)
    return ordered


def script(commands: list[str]) -> str:
    """Pure: the shell script Drone runs for `commands`: stop at the first failure, and before each
    command print `+ command` as written. The trace is single-quoted, so the shell expands nothing in
    it: a `$TOKEN` stays `$TOKEN` and a `$(…)` runs once, in the command itself."""
    lines = ["set -e"]
    for command in commands:
        # printf, not echo: some shells' echo turns backslashes in the text into escapes.
        lines += [f"printf '%s\\n' {shlex.quote('+ ' + command)}", command]
    return "\n".join(lines) + "\n"
