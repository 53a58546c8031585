"""What `drone_kit demo` pushes and applies, made from the checkout's own sample app."""

from __future__ import annotations

import yaml

from drone_kit import __version__
from drone_kit.platform import demo_files
from drone_kit.platform.config_file import load_config
from drone_kit.platform.demo import sample_app
from tests.paths import ROOT

CONFIG = load_config("server:\n  address: 10.9.8.7\nregistry:\n  node_port: 31000\n", "platform.yaml")
SAMPLE = sample_app(ROOT / "sample-app")


def test_the_pipeline_is_the_samples_with_the_platforms_images_and_the_demo_apps_names():
    files = demo_files.repository_files(SAMPLE, CONFIG, __version__)
    pipeline = yaml.safe_load(files[".drone.yml"])
    steps = {step["name"]: step for step in pipeline["steps"]}
    assert [s["name"] for s in pipeline["steps"]] == [s["name"] for s in SAMPLE.pipeline["steps"]]
    assert steps["build"]["image"] == f"10.9.8.7:31000/drone-kit/build-push:{__version__}"
    assert steps["deploy"]["image"] == f"10.9.8.7:31000/drone-kit/deploy:{__version__}"
    assert steps["build"]["settings"]["repo"] == "10.9.8.7:31000/drone-kit-demo/sample-app"
    assert steps["build"]["privileged"] is True and pipeline["trigger"] == SAMPLE.pipeline["trigger"]
    assert steps["deploy"]["settings"] | {"namespace": "default", "deployment": "drone-kit-demo"} == \
        steps["deploy"]["settings"]
    assert steps["verify"]["settings"]["version_url"] == "http://drone-kit-demo.default.svc/version"
    assert steps["verify"]["settings"]["expect_version"] == "${DRONE_COMMIT_SHA:0:8}"
    assert "192.168.1" not in files[".drone.yml"].decode()
    assert SAMPLE.pipeline["steps"][0]["image"].startswith("192.168.1.70:30500/")  # the sample is left as it was


def test_the_repository_holds_the_app_under_sample_app_and_no_second_pipeline():
    files = demo_files.repository_files(SAMPLE, CONFIG, __version__)
    assert files["sample-app/app.py"] == (ROOT / "sample-app" / "app.py").read_bytes()
    assert "sample-app/Dockerfile" in files and "sample-app/.drone.yml" not in files
    assert not [path for path in files if "__pycache__" in path]


def test_the_broken_release_sets_the_failure_switch_in_the_image_and_changes_nothing_else():
    files = demo_files.repository_files(SAMPLE, CONFIG, __version__)
    broken = demo_files.broken(files)
    changed = [path for path in files if files[path] != broken[path]]
    assert changed == ["sample-app/Dockerfile"]
    assert broken["sample-app/Dockerfile"].decode().rstrip().endswith("ENV APP_FAIL=crash")


def test_the_app_objects_are_named_for_the_demo_and_pull_from_the_platform_registry():
    deployment, service = sorted(demo_files.app_objects(SAMPLE, CONFIG), key=lambda obj: obj["kind"])
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == "drone-kit-demo"
    assert deployment["metadata"]["namespace"] == "default"
    template = deployment["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels == service["spec"]["selector"]
    assert template["spec"]["containers"][0]["image"] == "10.9.8.7:31000/drone-kit-demo/sample-app:latest"
    # nothing in the pod overrides the image's APP_FAIL, or the broken release would not break
    assert not [e for e in template["spec"]["containers"][0].get("env") or [] if e["name"] == "APP_FAIL"]


def test_the_version_the_app_reports_is_the_commits_short_sha():
    assert demo_files.version_of("0123456789abcdef") == "01234567"
