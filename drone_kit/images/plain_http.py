"""Which registries speak plain HTTP: the `insecure` setting's rules, what an engine's
`docker info` says it trusts, and host:port parsing. Pure.

Docker talks plain HTTP to a registry only when told to (--insecure-registry, or a CIDR), except
on loopback, which every engine reaches over plain HTTP.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping


def split_host(host: str) -> tuple[str, int | None]:
    """Pure: ("reg.lab", 5000) for "reg.lab:5000"; the port is None when not given."""
    hostname, colon, port = host.rpartition(":")
    if colon and port.isdigit() and (hostname.endswith("]") or ":" not in hostname):
        return hostname.strip("[]"), int(port)
    return host.strip("[]"), None


_INSECURE_WORDS = {"auto": "probe", "true": "http", "yes": "http", "1": "http", "false": "https", "no": "https",
                   "0": "https"}


def listed_insecure(insecure: list[str]) -> list[str]:
    """Pure: the hosts and CIDRs an `insecure` setting names ([] for auto, true or false)."""
    return [] if len(insecure) <= 1 and all(w.strip().lower() in _INSECURE_WORDS for w in insecure) else list(insecure)


def scheme_rule(host: str, insecure: list[str]) -> str:
    """Pure: "http", "https" or "probe" for a registry, from the `insecure` setting.

    `auto` probes; `true` / `false` force plain HTTP / HTTPS; otherwise the setting lists hosts
    (host or host:port) and CIDRs served over plain HTTP, and everything else is HTTPS.
    """
    listed = listed_insecure(insecure)
    if not listed:
        return _INSECURE_WORDS[insecure[0].strip().lower()] if insecure else "probe"
    hostname = split_host(host)[0]
    for entry in (word.strip().lower() for word in listed):
        if entry in (host.lower(), hostname.lower()):
            return "http"
        try:
            if ipaddress.ip_address(hostname) in ipaddress.ip_network(entry, strict=False):
                return "http"
        except ValueError:
            continue
    return "https"


def insecure_registries(host: str, scheme: str, insecure: list[str]) -> list[str]:
    """Pure: the --insecure-registry values for a dockerd this step starts."""
    return list(dict.fromkeys(listed_insecure(insecure) + ([host] if scheme == "http" else [])))


def is_loopback_registry(host: str) -> bool:
    """Pure: whether a registry host is on loopback, which every engine reaches over plain HTTP."""
    hostname = split_host(host)[0]
    try:
        return hostname == "localhost" or ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def daemon_trusts_plain_http(info: Mapping, host: str) -> bool:
    """Pure: whether an engine (from its `docker info`) talks plain HTTP to registry `host`."""
    registry_config = info.get("RegistryConfig") or {}
    index = (registry_config.get("IndexConfigs") or {}).get(host)
    if index is not None:
        return not index.get("Secure", True)
    try:
        address = ipaddress.ip_address(split_host(host)[0])
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr) for cidr in registry_config.get("InsecureRegistryCIDRs") or [])
