"""Reading `platform.yaml` into a PlatformConfig: every problem found at once, each naming its
key and value and saying how to fix it, before anything is applied.

The file is walked against the dataclasses' fields (section -> key), so a new field needs no
change here; what its value must look like is `config_rules`.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from drone_kit.errors import DroneKitError, SettingsError, did_you_mean
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_rules import Key, config_keys, config_problems, shown

DEFAULT_HINT = "`drone_kit init example.yaml` writes an example with every key, its default and what it is for"
_KINDS = {str: "text", int: "a whole number", float: "a number"}


class PlatformConfigError(SettingsError):
    """`platform.yaml` cannot be used; every problem is listed, each `key: value why: fix`."""

    def __init__(self, problems: list[str], source: str = "platform.yaml", hint: str = DEFAULT_HINT) -> None:
        super().__init__(problems, hint)
        self.source = source
        self.message = f"{source}: {problems[0]}" if len(problems) == 1 else f"{source} has {len(problems)} problems"
        self.args = (self.message,)


class _Loader(yaml.SafeLoader):
    """Refuses a key written twice, which YAML would silently resolve to the last one."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is written twice (first on line {seen[key]}): merge them into one",
                key_node.start_mark)
        if isinstance(key, str):
            seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _parse(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        hint = "fix the YAML there: each key is `key: value`, indented under its section"
        raise PlatformConfigError([f"{where}YAML error: {e.problem}"], source, hint) from None
    except yaml.YAMLError as e:
        raise PlatformConfigError([f"YAML error: {e}"], source, hint="fix the YAML syntax") from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _KINDS.get(type(value), type(value).__name__)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def _typed(key: Key, value: Any, default: Any) -> tuple[Any, str | None]:
    """The value as the field's type, or why it is not one."""
    if value is None:
        return None, f"{key.path}: has no value: write one, or remove the key to keep the default {shown(default)}"
    if key.type is str and isinstance(value, str):
        return value, None
    if key.type in (int, float) and isinstance(value, int) and not isinstance(value, bool):
        return key.type(value), None
    if key.type is float and isinstance(value, float):
        return value, None
    if key.type is str and not isinstance(value, dict | list):
        fix = "put it in quotes, e.g. 'no'" if isinstance(value, bool) else f"put it in quotes: '{value}'"
        return None, f"{key.path}: {shown(value)} is {_kind(value)}, not text: {fix}"
    fix = "remove the quotes" if _is_number(value) else f"write it like {shown(default)}"
    return None, f"{key.path}: {shown(value)} is {_kind(value)}, not {_KINDS.get(key.type, str(key.type))}: {fix}"


def _read_sections(document: dict[Any, Any]) -> tuple[dict[str, dict[str, Any]], list[str], set[str]]:
    """The typed values the file sets by section, the problems, and the keys that could not be used."""
    keys = list(config_keys())
    names = {key.section: [k.name for k in keys if k.section == key.section] for key in keys}
    defaults = PlatformConfig()
    values: dict[str, dict[str, Any]] = {name: {} for name in names}
    problems: list[str] = []
    broken: set[str] = set()
    for section, body in document.items():
        if section not in names:
            problems.append(f"{section}: unknown section{did_you_mean(str(section), list(names))}: "
                            f"the sections are {', '.join(names)}")
            continue
        if body is None:  # a section whose keys are all commented out
            continue
        if not isinstance(body, dict):
            broken.update(f"{section}.{name}" for name in names[section])
            problems.append(f"{section}: {shown(body)} is {_kind(body)}, not a mapping: "
                            f"indent its keys under `{section}:` ({', '.join(names[section])})")
            continue
        for name, value in body.items():
            if name not in names[section]:
                problems.append(f"{section}.{name}: unknown key{did_you_mean(str(name), names[section])}: "
                                f"{section} has {', '.join(names[section])}")
                continue
            key = next(k for k in keys if k.section == section and k.name == name)
            typed, problem = _typed(key, value, getattr(getattr(defaults, section), name))
            if problem:
                problems.append(problem)
                broken.add(key.path)
            else:
                values[section][name] = typed
    return values, problems, broken


def _file_order(problem: str) -> int:
    """Where a problem's key comes in the example file, so problems read top to bottom."""
    keys = [key.path for key in config_keys()]
    path = problem.partition(":")[0]
    section = path.partition(".")[0]
    if path in keys:
        return keys.index(path)
    starts = [index for index, key in enumerate(keys) if key.startswith(f"{section}.")]
    return starts[0] if starts else len(keys)


def load_config(text: str, source: str = "platform.yaml") -> PlatformConfig:
    """Pure: the platform `text` describes (missing keys keep their defaults);
    PlatformConfigError listing every problem."""
    document = _parse(text, source)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise PlatformConfigError([f"the file is {_kind(document)}, not a mapping of sections: "
                                   "start lines with section keys such as `server:` and `metallb:`"], source)
    values, problems, broken = _read_sections(document)
    config = PlatformConfig()
    config = replace(config, **{section.name: replace(getattr(config, section.name), **values[section.name])
                                for section in fields(PlatformConfig)})
    written = frozenset(f"{section}.{name}" for section, body in values.items() for name in body)
    problems += config_problems(config, written, frozenset(broken))
    if problems:
        raise PlatformConfigError(sorted(problems, key=_file_order), source)
    return config


def read_config(path: Path | None) -> PlatformConfig:
    """The platform the file at `path` describes; the defaults when `path` is None."""
    if path is None:
        return PlatformConfig()
    try:
        text = path.read_text()
    except OSError as e:
        hint = f"write one with `drone_kit init {path}`, or leave out --config for the defaults"
        raise DroneKitError(f"cannot read {path}: {e.strerror}", hint=hint) from e
    return load_config(text, str(path))
