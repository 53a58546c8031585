"""`drone_kit lint`: what Drone would silently ignore or fail on in a .drone.yml. Pure.

Drone ignores unknown keys and unknown plugin settings without a word; a misspelled
`deploymnet:` deploys nothing. Lint names them, with the line and a did-you-mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drone_kit.errors import did_you_mean
from drone_kit.pipelines.document import Document, Located, plain
from drone_kit.pipelines.keys import CONDITION_KEYS, KUBERNETES_KEYS, PIPELINE_TYPES, RESOURCE_KEYS, STEP_KEYS
from drone_kit.step.plugin import Plugin
from drone_kit.step.settings import encode_setting

OUR_IMAGE = re.compile(r"(?:^|/)drone-kit/(?P<plugin>[a-z-]+)(?::[^@/]*)?(?:@sha256:[0-9a-f]+)?$")


@dataclass(frozen=True)
class Problem:
    line: int
    severity: str  # error or warning
    message: str


def _unknown_keys(mapping: Located, known: set[str], where: str, severity: str = "error") -> list[Problem]:
    return [Problem(mapping.lines.get(key, mapping.line), severity,
                    f"{where}.{key}: not a key Drone knows here{did_you_mean(key, sorted(known))}; Drone ignores it")
            for key in mapping if key not in known]


def _conditions(mapping: object, where: str) -> list[Problem]:
    if not isinstance(mapping, Located):
        return []
    problems = _unknown_keys(mapping, CONDITION_KEYS, where)
    if "paths" in mapping:
        problems.append(Problem(mapping.lines["paths"], "warning",
                                f"{where}.paths: Drone does not evaluate paths without a paths-changed extension; "
                                "the condition is ignored and the step always runs"))
    return problems


def secrets_used(value: object) -> set[str]:
    """Pure: the names of every `from_secret` in a document."""
    if isinstance(value, dict):
        found = {value["from_secret"]} if isinstance(value.get("from_secret"), str) else set()
        return found.union(*(secrets_used(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(secrets_used(v) for v in value)) if value else set()
    return set()


def _plugin_settings(step: Located, where: str, plugins: dict[str, Plugin]) -> list[Problem]:
    match = OUR_IMAGE.search(str(step.get("image", "")))
    plugin = plugins.get(match["plugin"]) if match else None
    settings = step.get("settings")
    if plugin is None or not isinstance(settings, Located):
        return []
    names = [s.name for s in plugin.settings]
    problems = []
    for key, value in settings.items():
        line = settings.lines.get(key, settings.line)
        if key not in names:
            problems.append(Problem(line, "error", f"{where}.settings.{key}: not a setting of the {plugin.name} plugin"
                                                   f"{did_you_mean(key, names)}; it would be ignored"))
            continue
        if value is None or (isinstance(value, dict) and "from_secret" in value):
            continue  # Drone leaves a null out, and a secret's value is not in the file
        setting = plugin.setting(key)
        text = encode_setting(plain(value))  # what the step will read from PLUGIN_*
        if not text.strip():
            continue  # an empty value counts as unset
        try:
            setting.type.parse(text)
        except ValueError:
            shown = "a value (not shown: the setting is secret)" if setting.secret else repr(text)
            problems.append(Problem(line, "error", f"{where}.settings.{key}: expected {setting.type.expected}, "
                                                   f"got {shown}"))
    missing = [s.name for s in plugin.settings if s.required and s.name not in settings]
    if missing:
        problems.append(Problem(settings.line, "error", f"{where}.settings: missing required "
                                                        + ", ".join(missing) + f" for the {plugin.name} plugin"))
    return problems


def _commands(step: Located, at: str) -> list[Problem]:
    """`commands` must be a list of commands: Drone refuses a string, and `- echo a: b` is a mapping in YAML."""
    commands = step.get("commands")
    line = step.lines.get("commands", step.line)
    if commands is None:
        return []
    if not isinstance(commands, list):
        given = "a string" if isinstance(commands, str) else "a mapping" if isinstance(commands, dict) else "a scalar"
        return [Problem(line, "error", f"{at}.commands: expected a list of commands (one `- ` item each), "
                                       f"got {given}")]
    return [Problem(getattr(command, "line", line), "error",
                    f"{at}.commands[{index}]: not a command (quote it: YAML reads an unquoted `: ` as a mapping)")
            for index, command in enumerate(commands) if isinstance(command, (dict, list))]


def _no_pipeline(documents: list[Document]) -> list[Problem]:
    """An empty file, or one without `kind: pipeline`: Drone would run nothing and say little."""
    if any(document.data.get("kind") == "pipeline" for document in documents):
        return []
    if not documents:
        return [Problem(1, "error", "the file is empty: no pipeline (kind: pipeline) for Drone to run")]
    return [Problem(documents[0].line, "error", "no pipeline: no document has kind: pipeline, so Drone runs nothing")]


def lint(documents: list[Document], plugins: dict[str, Plugin], known_secrets: set[str] | None = None) -> list[Problem]:
    """Pure: every problem in the documents, in line order."""
    problems: list[Problem] = _no_pipeline(documents)
    for document in documents:
        data = document.data
        if data.get("kind") != "pipeline":
            continue
        name = data.get("name", f"document {document.index + 1}")
        where = f"pipeline {name!r}"
        kind = data.get("type", "docker")
        if kind not in PIPELINE_TYPES:
            problems.append(Problem(data.lines.get("type", data.line), "error",
                                    f"{where}.type: {kind!r} is not one drone_kit runs (docker, kubernetes)"))
        problems += _unknown_keys(data, RESOURCE_KEYS | (KUBERNETES_KEYS if kind == "kubernetes" else set()), where)
        problems += _conditions(data.get("trigger"), f"{where}.trigger")
        steps = data.get("steps") or []
        if not steps:
            problems.append(Problem(data.line, "error", f"{where}: no steps"))
        step_names = [s.get("name") for s in steps if isinstance(s, Located)]
        text_names = [n for n in step_names if isinstance(n, str)]  # did-you-mean compares text only
        for index, step in enumerate(steps):
            if not isinstance(step, Located):
                problems.append(Problem(data.lines.get("steps", data.line), "error",
                                        f"{where}.steps[{index}]: not a mapping"))
                continue
            at = f"{where}.steps[{index}] ({step.get('name', '?')})"
            problems += _unknown_keys(step, STEP_KEYS, at)
            for key in ("name", "image"):
                if not step.get(key):
                    problems.append(Problem(step.line, "error", f"{at}.{key}: required"))
            problems += _conditions(step.get("when"), f"{at}.when")
            problems += _commands(step, at)
            for dependency in step.get("depends_on") or []:
                if dependency not in step_names:
                    problems.append(Problem(step.lines.get("depends_on", step.line), "error",
                                            f"{at}.depends_on: no step named {dependency!r}"
                                            f"{did_you_mean(dependency, text_names)}"))
            problems += _plugin_settings(step, at, plugins)
        if known_secrets is not None:
            for secret in sorted(secrets_used(data) - known_secrets):
                problems.append(Problem(data.line, "error",
                                        f"{where}: secret {secret!r} is used (from_secret) but not given"))
    return sorted(problems, key=lambda p: p.line)
