"""Images the tests build in the private engine, each once per run: the Debian base (from the
root filesystem tests/run makes), drone_kit's own images, and the sample app."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.paths import ROOT, TEST_CACHE
from tests.stack.require import missing

BASE_TAG = "drone-kit-test/debian-python-docker:bookworm"
OFFLINE = "--no-index --find-links /src/build/wheels"


def import_base(engine) -> str:
    """The Debian base (python3 + a Docker engine) in the test engine; its name."""
    rootfs = TEST_CACHE / "debian-python-docker.tar"
    if not rootfs.is_file():
        missing(f"{rootfs} is missing: tests/run makes it (tests/stack/make-base-rootfs)")
    if not list((ROOT / "build" / "wheels").glob("*.whl")):
        missing("build/wheels is empty: tests/run fills it (pip wheel --wheel-dir build/wheels . setuptools)")
    if not engine.client.images.list(name=BASE_TAG):
        engine.client.api.import_image_from_file(str(rootfs), repository=BASE_TAG.split(":")[0], tag="bookworm")
    return BASE_TAG


# Images whose Dockerfile starts from another of ours (its context is then its own folder).
BUILT_ON = {"verify": "deploy", "shim": "deploy"}


def project_image(engine, name: str) -> str:
    """plugins/<name>/Dockerfile built offline; its tag."""
    tag = f"drone-kit-test/{name}:test"
    if not engine.client.images.list(name=tag):
        if name in BUILT_ON:
            engine.client.images.build(path=str(ROOT / "plugins" / name), tag=tag, rm=True,
                                       buildargs={"BASE": project_image(engine, BUILT_ON[name])})
        else:
            engine.client.images.build(path=str(ROOT), dockerfile=f"plugins/{name}/Dockerfile", tag=tag, rm=True,
                                       buildargs={"BASE": import_base(engine), "PIP_OPTIONS": OFFLINE})
    return tag


def sample_app_image(engine, version: str = "v9", commit: str = "feedbee") -> str:
    tag = f"drone-kit-test/sample-app:{version}"
    if not engine.client.images.list(name=tag):
        with tempfile.TemporaryDirectory() as context:
            shutil.copytree(ROOT / "sample-app", Path(context) / "app")
            shutil.copytree(ROOT / "build" / "wheels", Path(context) / "app" / "wheels")
            engine.client.images.build(path=f"{context}/app", tag=tag, rm=True, buildargs={
                "BASE": import_base(engine), "VERSION": version, "COMMIT": commit,
                "PIP_OPTIONS": "--no-index --find-links /src/wheels"})
    return tag


def run_step(engine, image: str, workspace: Path, env: dict, mount_socket: bool = False, **options) -> tuple[int, str]:
    """Run a plugin as Drone's runner does (workspace at /drone/src); its exit status and log."""
    volumes = {str(workspace): {"bind": "/drone/src", "mode": "rw"}}
    if mount_socket:
        volumes[str(engine.socket)] = {"bind": "/var/run/docker.sock", "mode": "rw"}
    container = engine.client.containers.run(image, environment=env, volumes=volumes, detach=True, **options)
    try:
        status = container.wait(timeout=600)["StatusCode"]
        return status, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
