"""Which check each `platform.yaml` key gets, and the checks across keys (the services' fixed
addresses inside the MetalLB pool, distinct, and not the server's own). Pure.

Keys are matched by name, so a new field named by the convention (`*.storage`, `*_ip`,
`*_timeout`, `images.*`, ...) is checked without a change here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from fnmatch import fnmatchcase
from typing import Any, get_type_hints

from drone_kit.platform import config_checks as check
from drone_kit.platform.config import PlatformConfig


@dataclass(frozen=True)
class Key:
    """One key of `platform.yaml`: `section.name`, and the Python type its value has."""

    section: str
    name: str
    type: type

    @property
    def path(self) -> str:
        return f"{self.section}.{self.name}"


def config_keys() -> Iterator[Key]:
    """Pure: every key `platform.yaml` can have, in the dataclasses' order."""
    for section in fields(PlatformConfig):
        section_type = get_type_hints(PlatformConfig)[section.name]
        hints = get_type_hints(section_type)
        for item in fields(section_type):
            yield Key(section.name, item.name, hints[item.name])


def value_at(config: PlatformConfig, key: Key) -> Any:
    return getattr(getattr(config, key.section), key.name)


SERVICE_IPS = ("*.ip", "*_ip")  # the fixed MetalLB addresses of services

# The first pattern matching a key's path decides its check.
RULES: tuple[tuple[str, Callable[[Any], str | None]], ...] = (
    ("server.address", check.ipv4_problem),
    *((pattern, check.ipv4_problem) for pattern in SERVICE_IPS),
    ("server.node", check.optional_dns_name_problem),
    ("*storage_class", check.dns_name_problem),
    ("*storage", check.size_problem),
    ("metallb.pool", check.pool_problem),
    ("*pool_name", check.dns_name_problem),
    ("*.version", check.release_problem),
    ("*_url", check.url_problem),
    ("*_sha256", check.sha256_problem),
    ("*timeout", check.positive_problem),
    ("timeouts.*", check.positive_problem),
    ("registry.node_port", check.node_port_problem),
    ("*port", check.port_problem),
    ("registry.project", check.project_problem),
    ("*namespace", check.dns_label_problem),
    ("*capacity", check.positive_problem),
    ("*admin_user", check.gitea_user_problem),
    ("*email", check.email_problem),
    ("*retention", check.duration_problem),
    ("*interval", check.duration_problem),
    ("images.drone_kit", check.repository_prefix_problem),
    ("images.metallb_*", check.optional_pinned_image_problem),
    ("images.*", check.pinned_image_problem),
)


def rule_for(path: str) -> Callable[[Any], str | None] | None:
    return next((rule for pattern, rule in RULES if fnmatchcase(path, pattern)), None)


def shown(value: Any) -> str:
    """Pure: a value as a problem quotes it; YAML's spelling for booleans and nulls."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)


def config_problems(config: PlatformConfig, written: frozenset[str] | None = None,
                    skip: frozenset[str] = frozenset()) -> list[str]:
    """Pure: every problem with the values of `config`, each `key: value why: fix`.

    `written`: the keys the file set (others are noted as defaults; None = all written);
    `skip`: keys already reported as unusable, so nothing more is said about them."""
    problems: list[str] = []
    usable: dict[str, Any] = {}
    for key in config_keys():
        if key.path in skip:
            continue
        value = value_at(config, key)
        rule = rule_for(key.path)
        reason = rule(value) if rule else None
        if reason:
            problems.append(f"{key.path}: {shown(value)} {reason}")
        else:
            usable[key.path] = value
    note = (lambda path: "") if written is None else (lambda path: "" if path in written else " (the default)")
    return problems + _address_problems(usable, note)


def _address_problems(usable: dict[str, Any], note: Callable[[str], str]) -> list[str]:
    pool = usable.get("metallb.pool")
    if pool is None:
        return []
    problems = []
    owners: dict[str, str] = {}
    services = [path for path in usable if any(fnmatchcase(path, pattern) for pattern in SERVICE_IPS)]
    for path in services:
        address = usable[path]
        if not check.in_pool(address, pool):
            problems.append(f"{path}: {address!r}{note(path)} is not in metallb.pool {pool}: "
                            "pick an address inside the pool")
        elif address in owners:
            problems.append(f"{path}: {address!r}{note(path)} is also {owners[address]}: "
                            "give each service its own address from the pool")
        else:
            owners[address] = path
    server = usable.get("server.address")
    if server is not None and check.in_pool(server, pool):
        problems.append(f"server.address: {server!r}{note('server.address')} is inside metallb.pool {pool}: "
                        "MetalLB would hand the node's own address to a service; move the pool off it")
    return problems
