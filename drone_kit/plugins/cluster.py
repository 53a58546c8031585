"""The cluster a plugin talks to: the kubeconfig and context settings that deploy and verify
share, and the Kubernetes client made from them."""

from __future__ import annotations

from collections.abc import Callable

from drone_kit.clients.kube import Kube
from drone_kit.clients.kubeconfig import api_client, kubeconfig_secrets, tls_warning
from drone_kit.step.plugin import PluginRun
from drone_kit.step.settings import Setting

CLUSTER_SETTINGS = (
    Setting("kubeconfig", secret=True, default_help="the service account, else ~/.kube/config",
            help="Kubeconfig as YAML or base64 (use from_secret).", secrets_within=kubeconfig_secrets),
    Setting("context", help="Kubeconfig context to use."),
)


def cluster_client(run: PluginRun, sleep: Callable[[float], None]) -> Kube:
    """A Kubernetes client for the cluster the settings name, logging to the step's log."""
    client = api_client(run.settings["kubeconfig"], run.settings["context"], run.environ)
    warning = tls_warning(client)
    if warning:
        run.say(warning)
    return Kube(client, run.say, sleep)
