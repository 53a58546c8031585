"""What the platform tests on the suite's real node share: the cluster adapter, images the node can
pull in place of upstream ones, and a StorageClass and a folder for the volumes the components
claim (the node has no storage provisioner: see platform_stack.provide_volumes)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.kubeconfig import api_client
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
