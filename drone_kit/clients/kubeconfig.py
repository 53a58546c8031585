"""Which cluster to talk to: a kubeconfig given as a setting (YAML or base64), else the pod's
service account, else ~/.kube/config (or KUBECONFIG). The kubeconfig's text is never printed."""

from __future__ import annotations

import base64
import binascii
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from drone_kit.errors import DroneKitError


def local_kubeconfig(environ: Mapping[str, str]) -> tuple[str, dict] | None:
    """The kubeconfig a client would load by hand (the first file of KUBECONFIG, else
    ~/.kube/config) and where it is; None when there is none or it is not one."""
    path = Path((environ.get("KUBECONFIG") or "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return (str(path), document) if isinstance(document, dict) else None


def parse_kubeconfig(text: str) -> dict:
    """Pure: a kubeconfig given as YAML or as base64 of YAML. The error never quotes the text."""
    decoded = _base64_text(text)
    for candidate in [text, *([decoded] if decoded else [])]:
        try:
            document = yaml.safe_load(candidate)
        except yaml.YAMLError:
            continue
        if isinstance(document, dict) and "clusters" in document:
            return document
    raise DroneKitError("settings.kubeconfig: not a kubeconfig (expected YAML with clusters, or its base64)",
                        hint="store the file's content as a secret and use from_secret")


def _base64_text(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


# The user fields of a kubeconfig that are secret (client-certificate-data is not, but it is
# the other half of a key pair nobody needs to see in a build log).
_SECRET_USER_FIELDS = ("token", "password", "client-key-data", "client-certificate-data")


def kubeconfig_secrets(text: str) -> list[str]:
    """Pure: every secret a kubeconfig holds, each on its own: the users' tokens, passwords and
    keys, and, for the base64 form, the YAML it decodes to. [] for anything not a kubeconfig."""
    try:
        document = parse_kubeconfig(text)
    except DroneKitError:
        return []
    users = [entry["user"] for entry in document.get("users") or []
             if isinstance(entry, dict) and isinstance(entry.get("user"), dict)]
    found = [str(user[field]) for user in users for field in _SECRET_USER_FIELDS if user.get(field)]
    decoded = _base64_text(text)
    return [*found, *([decoded] if decoded else [])]


def api_client(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    try:
        if kubeconfig:
            k8s_config.load_kube_config_from_dict(parse_kubeconfig(kubeconfig), context=context,
                                                  client_configuration=configuration, persist_config=False)
        elif environ.get("KUBERNETES_SERVICE_HOST"):
            k8s_config.load_incluster_config(client_configuration=configuration)
        else:
            k8s_config.load_kube_config(config_file=environ.get("KUBECONFIG") or None, context=context,
                                        client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError, KeyError, TypeError) as e:
        source = "settings.kubeconfig" if kubeconfig else "the kubeconfig (in-cluster or ~/.kube/config)"
        raise DroneKitError(f"cannot use {source}: {type(e).__name__}: {e}",
                            hint="set settings.kubeconfig, or run the step with a service account") from e
    if not configuration.verify_ssl:
        # urllib3 would warn, in several lines, on every request; the caller says it once (see below).
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    return k8s.ApiClient(configuration)


def tls_warning(client: k8s.ApiClient) -> str | None:
    """The one line to say when the kubeconfig skips TLS verification, else None."""
    configuration = client.configuration
    if configuration.verify_ssl:
        return None
    return (f"warning: the kubeconfig skips TLS verification (insecure-skip-tls-verify): nothing proves "
            f"{configuration.host} is the cluster it claims to be")
