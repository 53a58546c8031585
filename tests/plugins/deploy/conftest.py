"""Fixtures of the tests on the suite's real Kubernetes node: the images, a throwaway namespace per
test, and a plain-HTTP registry on a network-namespace test host."""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client as k8s

from drone_kit.clients.kubeconfig import api_client
from tests.plugins.deploy.node_support import DOCKERFILES
from tests.stack.netns import netns_host
from tests.stack.registry import push_test_image, running_registry
from tests.stack.require import require_binary


@pytest.fixture(scope="session")
def images(engine, registry, base_image) -> dict[str, str]:
    return {name: push_test_image(engine.client, registry, dockerfile.format(base=base_image), f"node-tests/{name}:v1")
            for name, dockerfile in DOCKERFILES.items()}


@pytest.fixture(scope="module")
def apps(kube_node) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(api_client(kube_node.kubeconfig(), None, {}))


@pytest.fixture
def namespace(apps):
    core = k8s.CoreV1Api(apps.api_client)
    name = f"dk-node-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def http_registry():
    """A plain-HTTP registry on a real, non-loopback address: the node's engine talks HTTPS to it."""
    with netns_host() as host, running_registry(require_binary("docker-registry", "docker-registry"),
                                                address=host.address, wrap=host.command, port=5000) as registry:
        yield registry
