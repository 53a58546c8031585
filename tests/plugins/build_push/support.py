"""What the build-push tests share: a small app to build, Drone's environment, and a runner."""

from __future__ import annotations

import json
from pathlib import Path

from drone_kit.plugins.build_push import BUILD_PUSH
from drone_kit.step.plugin import run_plugin

SHA = "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
APP_DOCKERFILE = """\
ARG BASE
FROM $BASE AS deps
RUN mkdir -p /deps && head -c 300000 /dev/urandom > /deps/blob
FROM $BASE AS final
ARG VERSION=dev
COPY --from=deps /deps /deps
RUN echo "$VERSION" > /version
COPY app.txt /app/app.txt
CMD ["cat", "/app/app.txt"]
"""


def make_workspace(path: Path) -> Path:
    (path / "Dockerfile").write_text(APP_DOCKERFILE)
    (path / "app.txt").write_text("hello v1\n")
    return path


def drone_env(docker_host: str, base_image: str, workspace: Path) -> dict[str, str]:
    """The variables Drone sets for a build-push step of a push to main."""
    return {
        "DOCKER_HOST": docker_host,
        "DRONE_WORKSPACE": str(workspace),
        "DRONE_REPO": "our-task/app",
        "DRONE_REPO_LINK": "http://gitea.lab/our-task/app",
        "DRONE_COMMIT_SHA": SHA,
        "DRONE_BUILD_NUMBER": "5",
        "DRONE_BUILD_EVENT": "push",
        "DRONE_BRANCH": "main",
        "PLUGIN_BUILD_ARGS": json.dumps({"BASE": base_image}),
    }


def run(env: dict[str, str], capsys, **settings: str) -> tuple[int, str, str]:
    """Run build-push with these settings as PLUGIN_* variables; exit status, stdout, stderr."""
    environ = {**env, **{f"PLUGIN_{k.upper()}": v for k, v in settings.items()}}
    code = run_plugin(BUILD_PUSH, environ)
    out, err = capsys.readouterr()
    return code, out, err


