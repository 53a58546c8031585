from pathlib import Path

import pytest

from drone_kit.plugins.build_push.tags import image_tags, parse_tags_file, semver_tags
from drone_kit.step.context import read_context

SHA = "4f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39"


def context(**env):
    return read_context({"DRONE_COMMIT_SHA": SHA, "DRONE_BUILD_NUMBER": "3", **env}, Path("/w"))


PUSH = context(DRONE_BUILD_EVENT="push", DRONE_BRANCH="main")
TAG = context(DRONE_BUILD_EVENT="tag", DRONE_TAG="v1.2.3")


@pytest.mark.parametrize(
    "explicit, tags_file, auto_tag, ctx, expected",
    [
        (None, None, False, PUSH, ["latest", "4f1c2a9e"]),
        (["v1", "stable"], None, False, PUSH, ["v1", "stable"]),
        (["v1"], "from-file", False, PUSH, ["v1"]),
        (None, "a, b\nc\n\n", False, PUSH, ["a", "b", "c"]),
        (None, "  \n", False, PUSH, ["latest", "4f1c2a9e"]),
        (None, None, True, PUSH, ["latest", "4f1c2a9e"]),
        (None, None, True, TAG, ["latest", "4f1c2a9e", "1", "1.2", "1.2.3"]),
        (["1.2.3"], None, True, TAG, ["1.2.3", "1", "1.2"]),
        (None, None, True, context(DRONE_BUILD_EVENT="tag", DRONE_TAG="v0.4.1"),
         ["latest", "4f1c2a9e", "0.4", "0.4.1"]),
        (None, None, True, context(DRONE_BUILD_EVENT="tag", DRONE_TAG="v2.0.0-rc.1"),
         ["latest", "4f1c2a9e", "2.0.0-rc.1"]),
        (None, None, False, read_context({}, Path("/w")), ["latest"]),
    ],
)
def test_image_tags(explicit, tags_file, auto_tag, ctx, expected):
    assert image_tags(explicit, tags_file, auto_tag, ctx) == expected


def test_auto_tag_on_a_non_semver_git_tag_is_an_error_not_a_silent_skip():
    with pytest.raises(ValueError, match="'release-7' is not a semantic version"):
        image_tags(None, None, True, context(DRONE_BUILD_EVENT="tag", DRONE_TAG="release-7"))


def test_invalid_tags_are_named():
    with pytest.raises(ValueError, match="'bad/tag' is not a valid image tag"):
        image_tags(["ok", "bad/tag"], None, False, PUSH)


def test_parse_tags_file_and_semver_tags():
    assert parse_tags_file("1.0,1.0.1\n latest ") == ["1.0", "1.0.1", "latest"]
    assert semver_tags(PUSH) == []
