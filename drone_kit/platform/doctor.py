"""`drone_kit doctor`: the ten ways a home-lab platform breaks (platform.md §9), each looked for in
the live cluster and answered with a diagnosis and its fix; and, once Gitea is wired to Drone, the
hooks that fail (doctor_hooks). Read-only."""

from __future__ import annotations

import time
from collections.abc import Sequence

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform import doctor_apps, doctor_cluster, doctor_hooks, doctor_metallb, doctor_monitoring
from drone_kit.platform.component import GeneratedSecret
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.doctor_hooks_view import HooksView, read_hooks
from drone_kit.platform.doctor_view import ClusterView, gather
from drone_kit.platform.findings import Finding


def diagnose(view: ClusterView, config: PlatformConfig,
             expected_secrets: Sequence[GeneratedSecret] = (), hooks: HooksView | None = None) -> list[Finding]:
    """Pure: every check, in platform.md §9's order, then the hooks when they were read; each
    says OK when it found nothing."""
    return [*doctor_cluster.https_pulls(view),
            *doctor_metallb.metallb(view, config),
            *doctor_cluster.load_balancers(view, config),
            *doctor_apps.gitea_hosts(view, config),
            *doctor_apps.urls(view, config),
            *doctor_apps.gitea_admin(view, config),
            *doctor_cluster.exec_format(view),
            *doctor_metallb.metallb_certs(view),
            *doctor_apps.platform_secrets(view, list(expected_secrets)),
            *doctor_monitoring.monitoring(view),
            *doctor_cluster.pi_basics(view),
            *(doctor_hooks.hooks(view, hooks) if hooks is not None else [])]


def doctor(cluster: ClusterObjects, config: PlatformConfig,
           expected_secrets: Sequence[GeneratedSecret] = (), gitea_url: str | None = None) -> list[Finding]:
    """Reads the cluster once and diagnoses it. `expected_secrets`: the GeneratedSecrets the
    components declare (their keys are checked). With `gitea_url` (where this machine reaches
    Gitea), the hooks are checked too."""
    view = gather(cluster)
    hooks = read_hooks(cluster, config, gitea_url, time.time()) if gitea_url is not None else None
    return diagnose(view, config, expected_secrets, hooks)
