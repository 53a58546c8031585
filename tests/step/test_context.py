from pathlib import Path

import pytest

from drone_kit.step.context import BuildContext, Semver, parse_semver, read_context

DRONE_TAG_BUILD = {
    "DRONE_REPO": "our-task/nginx-demo",
    "DRONE_REPO_LINK": "http://gitea.lab/our-task/nginx-demo",
    "DRONE_COMMIT_SHA": "4f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
    "DRONE_COMMIT_LINK": "http://gitea.lab/our-task/nginx-demo/commit/4f1c2a9e",
    "DRONE_BRANCH": "main",
    "DRONE_TAG": "v1.4.2",
    "DRONE_BUILD_EVENT": "tag",
    "DRONE_BUILD_NUMBER": "17",
    "DRONE_BUILD_LINK": "http://drone.lab/our-task/nginx-demo/17",
    "DRONE_WORKSPACE": "/drone/src",
    "DRONE_CARD_PATH": "/dev/stdout",
    "DRONE_KIT_CARDS_URL": "http://shim.lab/cards",
}


def test_reads_drone_build_context():
    context = read_context(DRONE_TAG_BUILD, Path("/elsewhere"))
    assert context == BuildContext(
        repo="our-task/nginx-demo",
        repo_link="http://gitea.lab/our-task/nginx-demo",
        commit_sha="4f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
        commit_link="http://gitea.lab/our-task/nginx-demo/commit/4f1c2a9e",
        branch="main",
        tag="v1.4.2",
        event="tag",
        build_number=17,
        build_link="http://drone.lab/our-task/nginx-demo/17",
        workspace=Path("/drone/src"),
        card_path="/dev/stdout",
        cards_url="http://shim.lab/cards",
        semver=Semver(1, 4, 2),
    )
    assert (context.repo_owner, context.repo_name, context.short_sha) == ("our-task", "nginx-demo", "4f1c2a9e")
    assert context.in_drone


def test_outside_drone_the_workspace_is_the_current_directory():
    context = read_context({}, Path("/home/me/app"))
    assert context.workspace == Path("/home/me/app")
    assert not context.in_drone and context.semver is None and context.short_sha == ""


def test_older_variable_names_and_owner_name_pairs_are_understood():
    context = read_context(
        {"DRONE_REPO_OWNER": "o", "DRONE_REPO_NAME": "n", "DRONE_COMMIT": "abc", "DRONE_COMMIT_BRANCH": "dev"},
        Path("."),
    )
    assert (context.repo, context.commit_sha, context.branch) == ("o/n", "abc", "dev")


def test_drone_semver_variable_wins_over_parsing_the_tag():
    context = read_context({"DRONE_TAG": "release-7", "DRONE_SEMVER": "7.0.0"}, Path("."))
    assert context.semver == Semver(7, 0, 0)


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("v1.2.3", Semver(1, 2, 3)),
        ("1.2.3", Semver(1, 2, 3)),
        ("v2.0.0-rc.1+build.5", Semver(2, 0, 0, "rc.1", "build.5")),
        ("v1.2", None),
        ("latest", None),
        ("v01.2.3", None),
    ],
)
def test_parse_semver(tag, expected):
    assert parse_semver(tag) == expected
