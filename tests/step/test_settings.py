from datetime import timedelta
from pathlib import Path

import pytest

from drone_kit.errors import SettingsError, did_you_mean
from drone_kit.step.settings import (
    BOOL,
    DURATION,
    INT,
    LIST,
    MAP,
    MAPS,
    PATH,
    STRING,
    Setting,
    parse_settings,
    read_raw,
)

WORKSPACE = Path("/drone/src")


@pytest.mark.parametrize(
    "setting_type, raw, expected",
    [
        (STRING, "  keep spaces ", "  keep spaces "),
        (BOOL, "true", True), (BOOL, "TRUE", True), (BOOL, "1", True), (BOOL, "yes", True),
        (BOOL, "false", False), (BOOL, "0", False), (BOOL, "No", False),
        (INT, "42", 42), (INT, " -3 ", -3),
        (DURATION, "90s", timedelta(seconds=90)), (DURATION, "2m", timedelta(minutes=2)),
        (DURATION, "1h30m", timedelta(hours=1, minutes=30)), (DURATION, "1.5s", timedelta(seconds=1.5)),
        (DURATION, "250ms", timedelta(milliseconds=250)), (DURATION, "300", timedelta(seconds=300)),
        (LIST, "a,b,c", ["a", "b", "c"]), (LIST, " a , b ,", ["a", "b"]), (LIST, "single", ["single"]),
        (LIST, '["x,y", "z"]', ["x,y", "z"]), (LIST, "[1, true]", ["1", "True"]),
        (MAP, '{"A": "1", "B": 2, "C": true}', {"A": "1", "B": "2", "C": "true"}),
        (MAP, "A=1,B=x=y", {"A": "1", "B": "x=y"}), (MAP, '["A=1,2"]', {"A": "1,2"}),
        (MAPS, '[{"name": "q", "count": 5}]', [{"name": "q", "count": 5}]),
        (MAPS, '{"name": "q"}', [{"name": "q"}]),
        (PATH, "sub/Dockerfile", WORKSPACE / "sub/Dockerfile"), (PATH, "/abs/file", Path("/abs/file")),
    ],
)
def test_each_type_parses_what_drone_sends(setting_type, raw, expected):
    settings = [Setting("value", setting_type)]
    assert parse_settings(settings, {"value": raw}, WORKSPACE) == {"value": expected}


@pytest.mark.parametrize(
    "setting_type, raw, message",
    [
        (BOOL, "maybe", 'settings.value: expected true or false (also yes/no, 1/0), got "maybe"'),
        (INT, "4.5", 'settings.value: expected a whole number, got "4.5"'),
        (DURATION, "abc", 'settings.value: expected a duration like 90s or 5m, got "abc"'),
        (DURATION, "5 m", 'settings.value: expected a duration like 90s or 5m, got "5 m"'),
        (DURATION, "5mfoo", 'settings.value: expected a duration like 90s or 5m, got "5mfoo"'),
        (LIST, "[1, [2]]", 'settings.value: expected a list (a YAML list, a,b,c or a JSON array), got "[1, [2]]"'),
        (LIST, "[broken", 'settings.value: expected a list (a YAML list, a,b,c or a JSON array), got "[broken"'),
        (MAP, "a,b", 'settings.value: expected a map (a YAML mapping, or a list of KEY=VALUE), got "a,b"'),
        (MAP, "{1}", 'settings.value: expected a map (a YAML mapping, or a list of KEY=VALUE), got "{1}"'),
        (MAP, "=v", 'settings.value: expected a map (a YAML mapping, or a list of KEY=VALUE), got "=v"'),
        (MAPS, "[1, 2]",
         'settings.value: expected a list of maps (sent by Drone as a JSON array of objects), got "[1, 2]"'),
        (PATH, "a\0b", 'settings.value: expected a path (relative to the workspace), got "a\\u0000b"'),
    ],
)
def test_malformed_values_name_the_drone_yml_key(setting_type, raw, message):
    with pytest.raises(SettingsError) as caught:
        parse_settings([Setting("value", setting_type)], {"value": raw}, WORKSPACE)
    assert caught.value.problems == [message]
    assert "settings:" in caught.value.hint


def test_all_missing_required_settings_are_listed_at_once_with_bad_values():
    settings = [Setting("repo", required=True), Setting("namespace", required=True), Setting("timeout", DURATION)]
    with pytest.raises(SettingsError) as caught:
        parse_settings(settings, {"timeout": "soon"}, WORKSPACE)
    assert caught.value.problems == [
        "missing required settings.repo, settings.namespace",
        'settings.timeout: expected a duration like 90s or 5m, got "soon"',
    ]
    assert caught.value.message == "2 problems with the settings"


def test_defaults_are_parsed_like_user_values_and_unset_is_none():
    settings = [Setting("timeout", DURATION, default="5m"), Setting("context", PATH, default="."), Setting("target")]
    assert parse_settings(settings, {}, WORKSPACE) == {
        "timeout": timedelta(minutes=5), "context": WORKSPACE / ".", "target": None,
    }


def test_a_secret_value_is_never_repeated_in_an_error():
    with pytest.raises(SettingsError) as caught:
        parse_settings([Setting("token", INT, secret=True)], {"token": "hunter2"}, WORKSPACE)
    assert "hunter2" not in str(caught.value.problems)
    assert caught.value.problems == ["settings.token: expected a whole number, got a secret value (not shown)"]


def test_read_raw_maps_plugin_variables_and_warns_about_unknown_ones():
    settings = [Setting("tags", LIST, aliases=("PLUGIN_TAG",)), Setting("dry_run", BOOL), Setting("repo")]
    environ = {
        "PLUGIN_TAGZ": "x", "PLUGIN_DRY-RUN": "true", "PLUGIN_REPO": "r", "PLUGIN_TAG": "old",
        "PLUGIN_TAGS": "a,b", "PLUGIN_EMPTY": "", "HOME": "/root", "DRONE_REPO": "o/n",
    }
    raw = read_raw(settings, environ, {})
    assert raw.values == {"tags": "a,b", "repo": "r"}
    assert raw.warnings == [
        "settings.dry-run is not a setting of this plugin and is ignored (did you mean dry_run?)",
        "settings.tagz is not a setting of this plugin and is ignored (did you mean tags?)",
    ]


def test_alias_is_read_when_the_main_name_is_absent():
    settings = [Setting("tags", LIST, aliases=("PLUGIN_TAG",))]
    assert read_raw(settings, {"PLUGIN_TAG": "v1"}, {}).values == {"tags": "v1"}


def test_command_line_overrides_win_and_unknown_ones_are_errors():
    settings = [Setting("repo"), Setting("tags", LIST)]
    raw = read_raw(settings, {"PLUGIN_REPO": "from-env"}, {"repo": "from-cli"})
    assert raw.values == {"repo": "from-cli"}
    with pytest.raises(SettingsError) as caught:
        read_raw(settings, {}, {"tag": "v1"})
    assert caught.value.problems == ["settings.tag: no such setting (did you mean tags?)"]


@pytest.mark.parametrize("word, expected", [("tagz", " (did you mean tags?)"), ("zzzzzz", "")])
def test_did_you_mean(word, expected):
    assert did_you_mean(word, ["tags", "repo", "registry"]) == expected


def test_setting_env_name_follows_drone():
    assert Setting("build_args").env == "PLUGIN_BUILD_ARGS"
