"""Pure: what `drone_kit demo` puts in Gitea and on the cluster, made from the sample app: the
repository's files (the app, and its pipeline pointed at this platform's registry and drone_kit's
plugin images there), the broken change it pushes second, and the app's Deployment and Service.

The repository is laid out like drone_kit's own checkout (`.drone.yml` at the top, the app in
`sample-app/`), so the pipeline is the sample's, with only names and addresses changed."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import yaml

from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.objects import Obj

REPO_NAME = "drone-kit-demo"
APP = "drone-kit-demo"  # the Deployment and Service, in the namespace the deploy step may patch
APP_NAMESPACE = "default"
APP_FOLDER = "sample-app"
PIPELINE_FILE = ".drone.yml"
BROKEN_SWITCH = "ENV APP_FAIL=crash"  # the sample app exits at start: its pods never become ready
HEADER = ("# Made by `drone_kit demo` from drone_kit's sample-app/.drone.yml: push to main → build the image →\n"
          "# roll it out (rolled back if unhealthy) → verify it serves the commit's version.\n")


@dataclass(frozen=True)
class SampleApp:
    """The sample app as read from a drone_kit checkout: its files (path under sample-app/ →
    content), its pipeline and its Kubernetes manifests (already parsed)."""
    files: dict[str, bytes]
    pipeline: dict
    manifests: list[Obj]


def image_repository(config: PlatformConfig) -> str:
    return f"{config.registry_host}/{REPO_NAME}/sample-app"


def service_url(path: str = "/") -> str:
    return f"http://{APP}.{APP_NAMESPACE}.svc{path}"


def pipeline(sample: dict, config: PlatformConfig, version: str) -> dict:
    """The sample's pipeline with the platform's images and the demo app's names."""
    rendered = copy.deepcopy(sample)
    steps = {step["name"]: step for step in rendered["steps"]}
    for name, plugin in (("build", "build-push"), ("deploy", "deploy"), ("verify", "verify")):
        steps[name]["image"] = config.drone_kit_image(plugin, version)
    steps["build"]["settings"].update(repo=image_repository(config), context=APP_FOLDER)
    steps["deploy"]["settings"].update(namespace=APP_NAMESPACE, deployment=APP)
    steps["verify"]["settings"].update(url=service_url("/"), version_url=service_url("/version"))
    return rendered


def repository_files(sample: SampleApp, config: PlatformConfig, version: str) -> dict[str, bytes]:
    """Every file of the demo repository, by path."""
    files = {f"{APP_FOLDER}/{path}": content for path, content in sample.files.items()}
    rendered = yaml.safe_dump(pipeline(sample.pipeline, config, version), sort_keys=False)
    files[PIPELINE_FILE] = (HEADER + rendered).encode()
    return files


def broken(files: dict[str, bytes]) -> dict[str, bytes]:
    """The same files with the sample app's failure switch set in its image."""
    dockerfile = f"{APP_FOLDER}/Dockerfile"
    text = files[dockerfile].decode()
    return {**files, dockerfile: (text.rstrip("\n") + f"\n# drone_kit demo: a broken release, to show the rollback\n"
                                  f"{BROKEN_SWITCH}\n").encode()}


def app_objects(sample: SampleApp, config: PlatformConfig) -> list[Obj]:
    """The sample's Deployment and Service, named for the demo, its image in the platform registry."""
    objects = []
    for manifest in sample.manifests:
        obj = copy.deepcopy(manifest)
        obj["metadata"].update(name=APP, namespace=APP_NAMESPACE, labels={"app": APP})
        if obj["kind"] == "Deployment":
            spec = obj["spec"]
            spec["selector"] = {"matchLabels": {"app": APP}}
            spec["template"]["metadata"]["labels"] = {"app": APP}
            spec["template"]["spec"]["containers"][0]["image"] = f"{image_repository(config)}:latest"
        elif obj["kind"] == "Service":
            obj["spec"]["selector"] = {"app": APP}
        objects.append(obj)
    return objects


def version_of(commit: str) -> str:
    """What the app reports at /version for a commit: the pipeline builds it with the short sha."""
    return commit[:8]
