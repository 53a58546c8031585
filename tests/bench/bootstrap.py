"""Benchmark (issue #14): `drone_kit bootstrap` on the suite's real Kubernetes node.

The benchmark starts its own private engine, registries and single-node Kubernetes 1.20 (the test
stack's context managers) and the platform the bootstrap tests install (tests/platform/
platform_stack.py: stand-in images, MetalLB's manifest from loopback, a volume per claim), then
measures, in one run (bootstrap with `--no-wire`: the stand-ins of Gitea and Drone cannot be wired):

- first install: wall time of `drone_kit bootstrap` on the empty node, until every part is ready;
- no-change re-run: wall time of a second `drone_kit bootstrap`, and how many objects it applied
  and how many it changed (their resourceVersion moved);
- the baseline it is compared with, in the same run: one server-side apply of every rendered
  object and nothing else (what `kubectl apply --server-side -f` of `drone_kit render` would do:
  no discovery cache, no readiness, no secrets), timed right after the re-run;
- the footprint: memory and CPU requests of every part, against the 1.5 GiB budget.

Targets: the re-run <= 10 s and changing 0 objects; memory requests <= 1.5 GiB.

    .venv/bin/python -m tests.bench.bootstrap
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.kubeconfig import api_client
from drone_kit.platform import catalog, footprint
from drone_kit.platform.apply_defaults import with_defaulted_keys
from drone_kit.platform.config_file import load_config
from drone_kit.platform.phases import in_order
from drone_kit.platform.upstream_manifest import parse_manifest
from tests.paths import KUBERNETES_BUILD, METALLB_MANIFEST
from tests.platform.metallb_standin import CertificateInjector
from tests.platform.platform_stack import BOOTSTRAP, prepared_platform
from tests.platform.standins import platform_images
from tests.stack import netguard
from tests.stack.engine import build_busybox_base, running_engine
from tests.stack.kubernetes import running_node
from tests.stack.registry import running_registry
from tests.stack.require import require_binary

RERUN_TARGET = 10.0
BASE_IMAGE = "drone-kit-bench/busybox:latest"
STORAGE_CLASS = "dk-bench-local"


def timed(platform, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    result = platform.run(*args)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"drone_kit {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> None:
    netguard.install()
    if not METALLB_MANIFEST.is_file():
        raise SystemExit(f"MetalLB's reference manifest is not here ({METALLB_MANIFEST})")
    if not (KUBERNETES_BUILD / "bin" / "kubelet").is_file():
        raise SystemExit(f"the node's binaries are not built in {KUBERNETES_BUILD}: tests/run builds them")
    work = Path(tempfile.mkdtemp(prefix="dk-bench-bootstrap-"))
    dockerd, runc = require_binary("dockerd", "docker.io"), require_binary("runc", "runc")
    try:
        with running_registry(require_binary("docker-registry", "docker-registry")) as registry, \
                running_engine(dockerd, runc) as engine, \
                running_node(KUBERNETES_BUILD / "bin", require_binary("etcd", "etcd-server"), engine) as node:
            build_busybox_base(engine.client, require_binary("busybox", "busybox-static"), BASE_IMAGE)
            cluster = ClusterObjects(api_client(node.kubeconfig(), None, {}), log=lambda line: None)
            cluster.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                           "metadata": {"name": STORAGE_CLASS}, "provisioner": "kubernetes.io/no-provisioner",
                           "volumeBindingMode": "WaitForFirstConsumer"})
            images = platform_images(engine.client, registry, BASE_IMAGE)
            print("stack up, images built; installing", flush=True)
            with prepared_platform(work, node, engine, registry, images, cluster, STORAGE_CLASS, work / "volumes") \
                    as platform, CertificateInjector(cluster.api_client):
                first, _ = timed(platform, *BOOTSTRAP)
                rerun, summary = timed(platform, *BOOTSTRAP)
                config = load_config(platform.config.read_text())
                plan = catalog.plan(config, list(catalog.COMPONENTS),
                                    lambda c, component: parse_manifest(platform.manifest))
                objects = in_order(obj for planned in plan for obj in planned.objects)
                started = time.monotonic()
                bare = ClusterObjects(api_client(node.kubeconfig(), None, {}), log=lambda line: None)
                for obj in objects:
                    bare.apply(with_defaulted_keys(obj))
                baseline = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = re.search(r"bootstrap: (\d+) of (\d+) objects changed", summary)
    changed, applied = (int(counts.group(1)), int(counts.group(2))) if counts else (-1, -1)
    rows = [(planned.component.name, footprint.of_objects(planned.objects)) for planned in plan]
    print("\n".join(footprint.table(rows)))
    print(f"first install: {first:.1f}s (every part ready)")
    print(f"no-change re-run: {rerun:.1f}s, {applied} objects applied, {changed} changed; "
          f"baseline (one server-side apply of the {len(objects)} objects, nothing else): {baseline:.1f}s; "
          f"ratio {rerun / baseline:.2f}x")
    print(f"targets: re-run {rerun:.1f}s <= {RERUN_TARGET:.0f}s: {'met' if rerun <= RERUN_TARGET else 'MISSED'}; "
          f"{changed} changed == 0: {'met' if changed == 0 else 'MISSED'}")


if __name__ == "__main__":
    main()
