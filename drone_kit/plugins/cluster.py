"""The cluster a plugin talks to: the kubeconfig and context settings that deploy and verify
share, and the Kubernetes client made from them.

A kubeconfig given as a setting is the user's input like any other setting: when it is not a
kubeconfig, lacks what a client needs, or has no context named settings.context, that is a bad
setting (SettingsError, exit 2), not a failed step.
"""

from __future__ import annotations

from collections.abc import Callable

from drone_kit.clients.kube import Kube
from drone_kit.clients.kubeconfig import api_client, kubeconfig_secrets, local_kubeconfig, parse_kubeconfig, tls_warning
from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.step.plugin import PluginRun
from drone_kit.step.settings import Setting, SettingType


def _kubeconfig(raw: str) -> str:
    # Checked with the other settings, so a malformed one is listed with them before anything runs.
    try:
        parse_kubeconfig(raw)
    except DroneKitError:
        raise ValueError from None
    return raw


KUBECONFIG = SettingType("kubeconfig", "a kubeconfig (YAML with clusters, or its base64)", _kubeconfig)

CLUSTER_SETTINGS = (
    Setting("kubeconfig", KUBECONFIG, secret=True, default_help="the service account, else ~/.kube/config",
            help="Kubeconfig as YAML or base64 (use from_secret).", secrets_within=kubeconfig_secrets),
    Setting("context", help="Kubeconfig context to use."),
)


def context_problem(document: dict, context: str | None, source: str = "settings.kubeconfig") -> str | None:
    """Pure: what is wrong with settings.context for this kubeconfig (found in `source`), or None."""
    names = [str(c["name"]) for c in document.get("contexts") or [] if isinstance(c, dict) and "name" in c]
    if not context or context in names:
        return None
    return f"settings.context: no context {context!r} in {source} (it has: {', '.join(names) or 'none'})"


def cluster_client(run: PluginRun, sleep: Callable[[float], None]) -> Kube:
    """A Kubernetes client for the cluster the settings name, logging to the step's log."""
    kubeconfig, context = run.settings["kubeconfig"], run.settings["context"]
    if kubeconfig:
        problem = context_problem(parse_kubeconfig(kubeconfig), context)
    elif context and not run.environ.get("KUBERNETES_SERVICE_HOST"):
        found = local_kubeconfig(run.environ)
        problem = context_problem(found[1], context, found[0]) if found else None
    else:
        problem = None
    if problem:
        raise SettingsError([problem], hint="name one of its contexts, or leave settings.context unset")
    try:
        client = api_client(kubeconfig, context, run.environ)
    except DroneKitError as e:
        if kubeconfig and not isinstance(e, SettingsError):
            raise SettingsError([e.message.replace("cannot use settings.kubeconfig", "settings.kubeconfig: unusable")],
                                hint="give a whole kubeconfig: clusters, users, contexts and current-context") from e
        raise
    warning = tls_warning(client)
    if warning:
        run.say(warning)
    return Kube(client, run.say, sleep)
