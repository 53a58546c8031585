"""The options of `drone_kit <plugin>`, generated from each plugin's settings, read as a person
would write them: --no-cache / --cache (not --no-no-cache), --dns (not --dns, --dn)."""

from __future__ import annotations

import re

import click
import pytest

from drone_kit.cli import cli
from drone_kit.cli.plugin_commands import singular
from drone_kit.plugins.catalog import PLUGINS
from drone_kit.step.settings import BOOL

OPTION = re.compile(r"^--[a-z0-9]+(-[a-z0-9]+)*$")
VOWELS = set("aeiouy")


def options(name: str) -> dict[str, click.Option]:
    command = cli.commands[name]
    return {param.name: param for param in command.params if isinstance(param, click.Option) and param.name}


def written_form(setting_name: str) -> str:
    return setting_name.replace("_", "-")


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_every_option_reads_as_a_person_would_write_it(name):
    seen: list[str] = []
    for setting in PLUGINS[name].settings:
        option = options(name)[setting.name]
        form = written_form(setting.name)
        for opt in option.opts + option.secondary_opts:
            assert OPTION.match(opt), f"{opt}: not a plain --lower-case-option"
            assert "--no-no-" not in opt and not opt.startswith("--no-no"), f"{opt}: a doubled prefix"
        assert option.opts[0] == f"--{form}", "the first option is the setting's own name"
        for alias in option.opts[1:]:  # only the singular of a repeatable list, and a whole word
            assert setting.type.repeatable and (alias[2:] + "s" == form or alias[2:-1] + "ies" == form), alias
            last = alias.rpartition("-")[2]
            assert len(last) >= 3 and set(last) & VOWELS, f"{alias}: a truncated name, not a singular"
        if setting.type is BOOL:
            opposite = form.removeprefix("no-") if form.startswith("no-") else f"no-{form}"
            assert option.secondary_opts == [f"--{opposite}"]
        seen += option.opts + option.secondary_opts
    assert len(seen) == len(set(seen)), "two settings share an option"


def test_the_options_the_issue_named():
    build_push = options("build-push")
    assert (build_push["no_cache"].opts, build_push["no_cache"].secondary_opts) == (["--no-cache"], ["--cache"])
    assert build_push["dns"].opts == ["--dns"]
    assert build_push["tags"].opts == ["--tags", "--tag"]
    assert build_push["build_args"].opts == ["--build-args", "--build-arg"]
    assert build_push["dry_run"].secondary_opts == ["--no-dry-run"]


def test_the_options_parse_to_the_settings():
    command = cli.commands["build-push"]
    with command.make_context("build-push", ["--repo", "r.lab/app", "--cache", "--dns", "10.0.0.2",
                                             "--dns", "10.0.0.3", "--tag", "v1", "--tags", "v2"]) as ctx:
        assert ctx.params["no_cache"] is False
        assert ctx.params["dns"] == ("10.0.0.2", "10.0.0.3")
        assert ctx.params["tags"] == ("v1", "v2")
    with command.make_context("build-push", ["--repo", "r.lab/app", "--no-cache"]) as ctx:
        assert ctx.params["no_cache"] is True


@pytest.mark.parametrize("word, expected", [
    ("tags", "tag"), ("labels", "label"), ("args", "arg"), ("platforms", "platform"), ("queries", "query"),
    ("images", "image"), ("dns", None), ("status", None), ("address", None), ("aliases", None), ("url", None),
    ("insecure", None), ("ms", None),
])
def test_singular(word, expected):
    assert singular(word) == expected
