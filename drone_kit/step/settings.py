"""Plugin settings: declared once, read from Drone's PLUGIN_* variables, checked all at once.

Drone turns `settings:` in .drone.yml into environment variables: `settings.build_args` becomes
PLUGIN_BUILD_ARGS, scalar lists are joined with commas, maps and lists of maps are sent as JSON,
and null values are left out. Everything here is pure: it works on plain mappings of strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from drone_kit.errors import SettingsError, did_you_mean

ENV_PREFIX = "PLUGIN_"


@dataclass(frozen=True)
class SettingType:
    name: str
    expected: str
    parse: Callable[[str], Any]
    repeatable: bool = False  # takes several values (a YAML list or mapping); by hand, an option given again


def _parse_bool(raw: str) -> bool:
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    try:
        return words[raw.strip().lower()]
    except KeyError:
        raise ValueError from None


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def parse_duration(raw: str) -> timedelta:
    text = raw.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError
    return timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def _parse_list(raw: str) -> list[str]:
    text = raw.strip()
    if text.startswith("["):
        items = json.loads(text)
        if not isinstance(items, list) or any(isinstance(i, (dict, list)) for i in items):
            raise ValueError
        return [str(i) for i in items]
    return [item.strip() for item in text.split(",") if item.strip()]


def _parse_map(raw: str) -> dict[str, Any]:
    text = raw.strip()
    if not text.startswith("{"):
        # plugins/docker style: a YAML list of KEY=VALUE, which Drone joins with commas.
        pairs = [item.partition("=") for item in _parse_list(text)]
        if not all(sep and key.strip() for key, sep, _ in pairs):
            raise ValueError
        return {key.strip(): value for key, _, value in pairs}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError
    return {str(k): v if isinstance(v, (dict, list)) else encode_setting(v) for k, v in value.items()}


def _parse_maps(raw: str) -> list[dict[str, Any]]:
    value = json.loads(raw)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError
    return value


def encode_setting(value: Any) -> str:
    """Pure: a `settings:` value as Drone puts it in PLUGIN_*: booleans as true/false, lists of
    scalars joined with commas, maps and lists of maps as JSON, null as empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ",".join(encode_setting(v) for v in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _parse_int(raw: str) -> int:
    return int(raw.strip(), 10)


def _parse_path(raw: str) -> Path:
    if "\0" in raw:
        raise ValueError
    return Path(raw.strip())


STRING = SettingType("string", "a string", lambda raw: raw)
BOOL = SettingType("bool", "true or false (also yes/no, 1/0)", _parse_bool)
INT = SettingType("int", "a whole number", _parse_int)
DURATION = SettingType("duration", "a duration like 90s or 5m", parse_duration)
LIST = SettingType("list", "a list (a YAML list, a,b,c or a JSON array)", _parse_list, repeatable=True)
MAP = SettingType("map", "a map (a YAML mapping, or a list of KEY=VALUE)", _parse_map, repeatable=True)
MAPS = SettingType("list of maps", "a list of maps (sent by Drone as a JSON array of objects)", _parse_maps)
PATH = SettingType("path", "a path (relative to the workspace)", _parse_path)


@dataclass(frozen=True)
class Setting:
    """One `settings:` key of a plugin, as a user writes it in .drone.yml."""

    name: str
    type: SettingType = STRING
    default: str | None = None  # as written in .drone.yml, so the docs show what users type
    required: bool = False
    secret: bool = False
    help: str = ""
    default_help: str = ""  # describes a default computed at run time (e.g. from the commit)
    aliases: tuple[str, ...] = ()  # other PLUGIN_* names read too, e.g. PLUGIN_TAG for tags
    # For a secret that holds other secrets (a kubeconfig: its token, keys, passwords): each of
    # them, so that one printed on its own is masked too. Must not raise on malformed input.
    secrets_within: Callable[[str], list[str]] | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


@dataclass(frozen=True)
class RawSettings:
    """The raw strings for each known setting, and warnings about what was not understood."""

    values: dict[str, str]
    warnings: list[str]


def read_raw(settings: list[Setting], environ: Mapping[str, str], overrides: Mapping[str, str]) -> RawSettings:
    """Pure: pick each setting's raw string from PLUGIN_* variables, then from overrides.

    Overrides are `--setting key=value` pairs from the command line; an unknown key there is an
    error, while an unknown PLUGIN_* variable (Drone passes every key the user wrote) is a warning.
    Empty values count as unset, as Drone sends an empty string for an absent secret.
    """
    by_env = {s.env: s for s in settings}
    by_env.update({alias: s for s in settings for alias in s.aliases})
    names = [s.name for s in settings]
    values: dict[str, str] = {}
    warnings: list[str] = []
    for key in sorted(environ):
        if not key.startswith(ENV_PREFIX) or not environ[key].strip():
            continue
        setting = by_env.get(key)
        if setting is None:
            name = key[len(ENV_PREFIX):].lower()
            warnings.append(
                f"settings.{name} is not a setting of this plugin and is ignored{did_you_mean(name, names)}")
        elif setting.env == key or setting.name not in values:
            values[setting.name] = environ[key]
    unknown = [k for k in overrides if k not in names]
    if unknown:
        raise SettingsError([f"settings.{k}: no such setting{did_you_mean(k, names)}" for k in unknown])
    values.update({k: v for k, v in overrides.items() if v.strip()})
    return RawSettings(values, warnings)


def parse_settings(settings: list[Setting], raw: Mapping[str, str], workspace: Path) -> dict[str, Any]:
    """Pure: typed values for every setting (None where unset without a default).

    Raises SettingsError listing every missing required setting and every malformed value at once.
    A secret value is never repeated in a message. Relative paths are taken from the workspace.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    missing = [s.name for s in settings if s.required and s.name not in raw]
    if missing:
        problems.append("missing required " + ", ".join(f"settings.{name}" for name in missing))
    for setting in settings:
        text = raw.get(setting.name, setting.default)
        if text is None:
            values[setting.name] = None
            continue
        try:
            value = setting.type.parse(text)
        except ValueError:
            shown = "a secret value (not shown)" if setting.secret else json.dumps(text)
            problems.append(f"settings.{setting.name}: expected {setting.type.expected}, got {shown}")
            continue
        if setting.type is PATH and not value.is_absolute():
            value = workspace / value
        values[setting.name] = value
    if problems:
        raise SettingsError(problems, hint="fix them under `settings:` in .drone.yml (or --setting key=value)")
    return values
