"""Images that take the place of the platform's upstream images on the suite's node, which cannot
pull from an image hub. The registry is the real program (Debian's binary, which links only libc:
the image holds the binary and the libc files `ldd` names, on the busybox base); the others are
stand-ins that answer their health paths on the ports the real ones use, so readiness is judged
exactly as for the real thing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.stack.registry import Registry

# Where each stand-in's health answers live; every stand-in serves all of them.
HEALTH_PATHS = ("api/healthz", "healthz", "api/health", "metrics", "-/ready", "-/healthy")
# The ports each real program listens on. Debian's prometheus is built without Kubernetes service
# discovery and refuses the platform's scrape configuration, so Prometheus is a stand-in too.
STANDIN_PORTS = {"gitea": (3000,), "drone": (80,), "drone_runner": (3000,), "grafana": (3000,),
                 "node_exporter": (9100,), "prometheus": (9090,)}
STANDIN_ENTRYPOINT = """#!/bin/sh
# Answers every platform health path on the ports Gitea, Drone, its runner, Grafana and
# node-exporter listen on; ignores the arguments the real program would take.
echo "stand-in for $STANDIN_FOR started with: $*"
# what drone-runner-kube logs once Drone's server answers its ping
[ "$STANDIN_FOR" = drone_runner ] && echo "level=info msg=\"successfully pinged the remote server\""
mkdir -p /tmp/www
for path in {paths}; do mkdir -p "/tmp/www/$(dirname "$path")"; echo ok > "/tmp/www/$path"; done
for port in {ports}; do httpd -p "$port" -h /tmp/www; done
# Stops at SIGTERM as the real programs do (PID 1 has no default handler): a Recreate rollout
# would otherwise wait out the 30 s grace period for the old pod.
trap 'exit 0' TERM INT
sleep 2147483647 &
wait
"""
# The Gitea admin Job runs `gitea admin user ...`: the stand-in records the call and succeeds.
GITEA_COMMAND = """#!/bin/sh
echo "gitea $*"
case "$*" in *"user list"*) echo "ID   Username Email IsActive IsAdmin";; esac
exit 0
"""
# The rootful Gitea image's setup script, which writes app.ini from the environment.
GITEA_SETUP = """#!/bin/sh
echo "gitea setup: app.ini written"
"""
REGISTRY_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
"""


def _libc_files(binary: str) -> list[str]:
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return [part for line in out.splitlines() for part in line.split() if part.startswith("/")]


def _build_and_push(engine, registry: Registry, context: Path, name: str) -> str:
    tag = f"{registry.host}/{name}"
    engine.images.build(path=str(context), tag=tag, rm=True)
    for line in engine.api.push(tag, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"pushing {name}: {line['error']}")
    return tag


def binary_image(engine, registry: Registry, base: str, binary: str, name: str, entrypoint: list[str],
                 files: dict[str, str] | None = None) -> str:
    """The Debian `binary` with its libc files on the busybox base, pushed; its name."""
    with tempfile.TemporaryDirectory(prefix="dk-standin-") as directory:
        context = Path(directory)
        lines = [f"FROM {base}"]
        for index, path in enumerate([binary, *_libc_files(binary)]):
            shutil.copy(Path(path).resolve(), context / f"file{index}")
            lines.append(f"COPY file{index} {path}")
        for index, (path, text) in enumerate((files or {}).items()):
            (context / f"text{index}").write_text(text)
            lines.append(f"COPY text{index} {path}")
        lines.append(f"ENTRYPOINT {entrypoint!r}".replace("'", '"'))
        (context / "Dockerfile").write_text("\n".join(lines) + "\n")
        return _build_and_push(engine, registry, context, name)


def standin_image(engine, registry: Registry, base: str, name: str, ports: tuple[int, ...]) -> str:
    with tempfile.TemporaryDirectory(prefix="dk-standin-") as directory:
        context = Path(directory)
        (context / "standin").write_text(STANDIN_ENTRYPOINT.format(paths=" ".join(HEALTH_PATHS),
                                                                    ports=" ".join(map(str, ports))))
        (context / "gitea").write_text(GITEA_COMMAND)
        (context / "setup").write_text(GITEA_SETUP)
        (context / "Dockerfile").write_text(
            f"FROM {base}\nCOPY standin /standin\nCOPY gitea /usr/local/bin/gitea\nCOPY setup /etc/s6/gitea/setup\n"
            "RUN chmod 755 /standin /usr/local/bin/gitea /etc/s6/gitea/setup && mkdir -p /tmp && chmod 1777 /tmp\n"
            f"ENV STANDIN_FOR={name.split('/')[-1].split(':')[0]}\nENTRYPOINT [\"/standin\"]\n")
        return _build_and_push(engine, registry, context, name)


def platform_images(engine, registry: Registry, base: str, tag: str = "v1") -> dict[str, str]:
    """platform.yaml's `images` section pointing every component at an image the node can pull."""
    images = {component: standin_image(engine, registry, base, f"standins/{component}:{tag}", ports)
              for component, ports in STANDIN_PORTS.items()}
    return {**images,
        "registry": binary_image(engine, registry, base, shutil.which("docker-registry") or "docker-registry",
                                 f"standins/registry:{tag}", ["/usr/bin/docker-registry", "serve",
                                                               "/etc/docker/registry/config.yml"],
                                 {"/etc/docker/registry/config.yml": REGISTRY_CONFIG}),
    }
