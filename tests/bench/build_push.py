"""Benchmark: build-push against the reference way (docker build, then tag + push per tag).

Measured as Drone runs the step: every build in a fresh engine (empty data-root, like a new
docker-in-docker pod), an expensive dependency layer (~5 s, ~50 MB, standing in for
`pip install`), and a change between builds that touches only the app's source layer.
Also the warm case, where one engine is reused. Alternating runs, median of 5.

    .venv/bin/python -m tests.bench.build_push [--runs 5]

Targets: cold ≤ 0.5× the reference wall time with only the changed layer uploaded; warm ≤ 1.05×.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from drone_kit.clients.registry import RegistryClient
from drone_kit.plugins.build_push import BUILD_PUSH
from drone_kit.step.plugin import run_plugin
from tests.stack import netguard
from tests.stack.engine import build_busybox_base, running_engine
from tests.stack.registry import running_registry
from tests.stack.require import require_binary

DOCKERFILE = """\
ARG BASE
FROM $BASE
RUN sleep 5 && mkdir /deps && head -c 50000000 /dev/urandom > /deps/site-packages.bin
COPY app.txt /app/app.txt
CMD ["cat", "/app/app.txt"]
"""
TAGS = ["latest", "v1", "stable"]


def uploaded_bytes(registry, name: str, since: int) -> tuple[int, int]:
    """Blobs uploaded to `name` after log offset `since`: (count, bytes)."""
    text = registry.log_text()[since:]
    digests = re.findall(rf'"PUT /v2/{name}/blobs/uploads/[^"]*digest=(sha256(?:%3A|:)[0-9a-f]+)[^"]*" 201', text)
    client = RegistryClient(registry.host, scheme="http")
    sizes = [
        int(client.session.head(f"{client.base_url}/{name}/blobs/{d.replace('%3A', ':')}").headers["Content-Length"])
        for d in digests
    ]
    return len(sizes), sum(sizes)


def prepare_engine(engine, base_ref: str) -> None:
    engine.client.api.pull(base_ref)


def ours(engine, registry, workspace: Path, repo: str, base: str) -> None:
    env = {"DOCKER_HOST": engine.host, "DRONE_WORKSPACE": str(workspace), "DRONE_COMMIT_SHA": uuid.uuid4().hex,
           "DRONE_BUILD_NUMBER": "1", "PLUGIN_REPO": repo, "PLUGIN_TAGS": ",".join(TAGS),
           "PLUGIN_BUILD_ARGS": json.dumps({"BASE": base})}
    with contextlib.redirect_stderr(io.StringIO()) as log:
        code = run_plugin(BUILD_PUSH, env)
    if code:
        raise SystemExit(f"build-push failed:\n{log.getvalue()[-3000:]}")


def reference(engine, registry, workspace: Path, repo: str, base: str) -> None:
    api = engine.client.api
    for event in api.build(
        path=str(workspace), tag=f"{repo}:{TAGS[0]}", buildargs={"BASE": base}, rm=True, decode=True
    ):
        if "error" in event:
            raise SystemExit(f"docker build failed: {event['error']}")
    for tag in TAGS:
        api.tag(f"{repo}:{TAGS[0]}", repo, tag)
        for event in api.push(repo, tag, stream=True, decode=True):
            if "error" in event:
                raise SystemExit(f"docker push failed: {event['error']}")


def trial(way, engine, registry, workspace, repo, base) -> tuple[float, int, int]:
    (workspace / "app.txt").write_text(f"app {uuid.uuid4()}\n")
    offset = len(registry.log_text())
    started = time.perf_counter()
    way(engine, registry, workspace, repo, base)
    seconds = time.perf_counter() - started
    return (seconds, *uploaded_bytes(registry, repo.split("/", 1)[1], offset))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    netguard.install()  # loopback only, as in the tests
    dockerd, runc = require_binary("dockerd", "docker.io"), require_binary("runc", "runc")
    with running_registry(require_binary("docker-registry", "docker-registry")) as registry, \
            tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "Dockerfile").write_text(DOCKERFILE)
        (workspace / "app.txt").write_text("app 0\n")
        base = f"{registry.host}/bench/busybox:1"
        with running_engine(dockerd, runc) as seed:
            build_busybox_base(seed.client, require_binary("busybox", "busybox-static"), base)
            list(seed.client.api.push(base.rsplit(":", 1)[0], "1", stream=True))
            # Both ways start from a previous build of the image already in the registry.
            prepare_engine(seed, base)
            ours(seed, registry, workspace, f"{registry.host}/bench/ours", base)
            reference(seed, registry, workspace, f"{registry.host}/bench/reference", base)

        results = {"cold": {"ours": [], "reference": []}, "warm": {"ours": [], "reference": []}}
        for run in range(args.runs):
            for name, way in (("ours", ours), ("reference", reference)):
                with running_engine(dockerd, runc) as fresh:
                    prepare_engine(fresh, base)
                    results["cold"][name].append(
                        trial(way, fresh, registry, workspace, f"{registry.host}/bench/{name}", base)
                    )
            print(f"cold run {run + 1}: ours {results['cold']['ours'][-1][0]:.1f}s, "
                  f"reference {results['cold']['reference'][-1][0]:.1f}s", flush=True)
        for name, way in (("ours", ours), ("reference", reference)):
            with running_engine(dockerd, runc) as warm:
                prepare_engine(warm, base)
                trial(way, warm, registry, workspace, f"{registry.host}/bench/warm-{name}", base)  # fills the cache
                for _ in range(args.runs):
                    results["warm"][name].append(
                        trial(way, warm, registry, workspace, f"{registry.host}/bench/warm-{name}", base))

    print(f"\nbuild-push vs reference (docker build + tag/push per tag), {len(TAGS)} tags, median of {args.runs}")
    for case, target in (("cold", 0.5), ("warm", 1.05)):
        ours_s = statistics.median(r[0] for r in results[case]["ours"])
        ref_s = statistics.median(r[0] for r in results[case]["reference"])
        ours_bytes = statistics.median(r[2] for r in results[case]["ours"])
        ref_bytes = statistics.median(r[2] for r in results[case]["reference"])
        ours_blobs = statistics.median(r[1] for r in results[case]["ours"])
        ratio = ours_s / ref_s
        print(f"{case:5} engine: ours {ours_s:6.2f}s  reference {ref_s:6.2f}s  ratio {ratio:.2f}x "
              f"(target <= {target}x: {'met' if ratio <= target else 'MISSED'})")
        print(f"{'':13} uploaded: ours {ours_bytes / 1e6:8.2f} MB in {ours_blobs:.0f} blobs, "
              f"reference {ref_bytes / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
