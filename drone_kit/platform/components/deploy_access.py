"""What the deploy plugin may do: its ServiceAccount in Drone's build namespace (pipelines name it
with `service_account_name: drone-kit-deploy`), and a Role bound to it in the namespace apps are
deployed to. The rules are plugins/deploy/rbac.yaml's, and a test keeps them equal. Pure.
"""

from __future__ import annotations

import copy

from drone_kit.platform.component import Component
from drone_kit.platform.components import drone_runner
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.objects import Obj, metadata, service_account

NAME = "drone-kit-deploy"
COMPONENT_NAME = "deploy_access"
APP_NAMESPACES = ("default",)  # where apps run; the plugin watches and patches Deployments there
RBAC = "rbac.authorization.k8s.io"
# Exactly what the deploy step does: patch the Deployment's image, follow its ReplicaSets and pods,
# and read their events and logs when a rollout fails. Nothing that creates or deletes.
RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]


def render(config: PlatformConfig) -> list[Obj]:
    build_namespace = config.drone.build_namespace
    objects = [service_account(COMPONENT_NAME, NAME, build_namespace)]
    for app_namespace in APP_NAMESPACES:
        objects += [
            {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": metadata(COMPONENT_NAME, NAME, app_namespace),
             "rules": copy.deepcopy(RULES)},
            {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
             "metadata": metadata(COMPONENT_NAME, NAME, app_namespace),
             "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": NAME},
             "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": build_namespace}]},
        ]
    return objects


COMPONENT = Component(
    name=COMPONENT_NAME,
    summary="the deploy plugin's ServiceAccount and the Role it deploys apps with",
    render=render,
    depends_on=(drone_runner.COMPONENT_NAME,),  # it renders the build namespace
)
