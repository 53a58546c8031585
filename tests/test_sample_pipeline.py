"""The sample app's pipeline, run by `drone_kit exec` against the test stack: build-push builds
the app from its Dockerfile and pushes it to the real registry, deploy rolls it out on the fake
Kubernetes API, verify checks the app (served by a service of the pipeline)."""

from __future__ import annotations

import shutil
import subprocess

import yaml

from drone_kit.clients.containers import ContainerEngine
from drone_kit.clients.registry import RegistryClient
from drone_kit.pipelines.local_run import run_exec
from tests.fakes.kube_api import FakeCluster
from tests.rollouts.recordings import load
from tests.stack.project_images import ROOT, import_base, project_image, sample_app_image
from tests.stack.registry import free_port


def local_variant(pipeline: dict, registry: str, engine, base: str, app_image: str, app_port: int) -> dict:
    """The sample app's pipeline pointed at the test stack: the same steps and settings, with
    local images, the test registry, the fake cluster's kubeconfig and a local app to verify."""
    steps = {step["name"]: step for step in pipeline["steps"]}
    steps["build"]["image"] = project_image(engine, "build-push")
    steps["build"]["volumes"] = [{"name": "docker", "path": "/var/run/docker.sock"}]
    steps["build"]["settings"].update(repo=f"{registry}/our-task/sample-app", build_args={
        **steps["build"]["settings"]["build_args"], "BASE": base, "PIP_OPTIONS": "--no-index --find-links /src/wheels"})
    steps["deploy"]["image"] = project_image(engine, "deploy")
    steps["deploy"]["settings"].update(namespace="demo", deployment="web", kubeconfig={"from_secret": "kubeconfig"})
    steps["verify"]["image"] = project_image(engine, "verify")
    steps["verify"]["settings"] = {"url": f"http://127.0.0.1:{app_port}/", "version_url": f"http://127.0.0.1:{app_port}/version",
                                   "expect_version": "v9", "rollback": False}
    pipeline["type"] = "docker"
    pipeline.pop("service_account_name")
    pipeline["volumes"] = [{"name": "docker", "host": {"path": str(engine.socket)}}]
    pipeline["services"] = [
        {"name": "app", "image": app_image, "environment": {"PORT": str(app_port), "HOST": "127.0.0.1"}}
    ]
    return pipeline


def test_the_sample_app_pipeline_runs_end_to_end(engine, registry, tmp_path):
    base, app_image, port = import_base(engine), sample_app_image(engine, "v9"), free_port()
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "sample-app", repo / "sample-app")
    shutil.copytree(ROOT / "build" / "wheels", repo / "sample-app" / "wheels")
    pipeline = yaml.safe_load((ROOT / "sample-app" / ".drone.yml").read_text())
    (repo / ".drone.yml").write_text(
        yaml.safe_dump(local_variant(pipeline, registry.host, engine, base, app_image, port))
    )
    for command in (["init", "-q", "-b", "main"], ["add", "."],
                    ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "sample"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True)
    cluster = FakeCluster(load("success"))
    lines: list[str] = []
    try:
        code = run_exec(repo / ".drone.yml", None, {"kubeconfig": cluster.kubeconfig()}, {}, True, True,
                        ContainerEngine(engine.client), lines.append)
    finally:
        cluster.close()
    log = "\n".join(lines)
    assert code == 0, log
    digest = RegistryClient(registry.host, scheme="http").manifest_digest("our-task/sample-app", "latest")
    assert digest and f"our-task/sample-app@{digest} tagged latest" in log
    patched = [body for kind, body in cluster.patches if "strategic" in kind][0]
    assert (
        patched["spec"]["template"]["spec"]["containers"][0]["image"]
        == f"{registry.host}/our-task/sample-app@{digest}"
    )
    assert "[deploy] rolled out in" in log and "[verify] verified: 2 checks passed" in log
