"""What the platform tests on the suite's real node share: the cluster adapter, images the node can
pull in place of upstream ones, a platform.yaml pointing at them, and volumes for the claims the
components make (the node has no storage provisioner, so the test binds each claim to a hostPath
volume made for it, as k3s's local-path provisioner would)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from kubernetes import client as k8s

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.kubeconfig import api_client
from drone_kit.platform.objects import Obj
from tests.platform.standins import platform_images

STORAGE_CLASS = "dk-test-local"


@pytest.fixture(scope="session")
def platform_cluster(kube_node) -> ClusterObjects:
    return ClusterObjects(api_client(kube_node.kubeconfig(), None, {}), log=print)


@pytest.fixture(scope="session")
def standin_images(engine, registry, base_image) -> dict[str, str]:
    return platform_images(engine.client, registry, base_image)


@pytest.fixture(scope="session")
def volume_root():
    root = Path(tempfile.mkdtemp(prefix="dk-volumes-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def storage_class(platform_cluster) -> str:
    platform_cluster.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                            "metadata": {"name": STORAGE_CLASS}, "provisioner": "kubernetes.io/no-provisioner",
                            "volumeBindingMode": "WaitForFirstConsumer"})
    return STORAGE_CLASS


def provide_volumes(cluster: ClusterObjects, root: Path, objects: list[Obj]) -> None:
    """A hostPath PersistentVolume pre-bound to each claim among `objects` (once per claim)."""
    core = k8s.CoreV1Api(cluster.api_client)
    for claim in [obj for obj in objects if obj["kind"] == "PersistentVolumeClaim"]:
        namespace, name = claim["metadata"]["namespace"], claim["metadata"]["name"]
        directory = root / namespace / name
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o777)  # the images run as different users
        volume = f"dk-{namespace}-{name}"
        if cluster.get("v1", "PersistentVolume", volume) is not None:
            continue
        core.create_persistent_volume({
            "metadata": {"name": volume},
            "spec": {"capacity": claim["spec"]["resources"]["requests"], "accessModes": ["ReadWriteOnce"],
                     "storageClassName": claim["spec"]["storageClassName"],
                     "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": str(directory)},
                     "claimRef": {"namespace": namespace, "name": name}}})
