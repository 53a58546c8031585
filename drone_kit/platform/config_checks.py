"""What one `platform.yaml` value must look like: addresses, the MetalLB pool, sizes, durations,
names, images. Pure: each check takes a value and returns why it is wrong and how to fix it
(the text that follows the value in a problem), or None when it is fine.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from drone_kit.images.reference import parse_reference

Pool = tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]

# Kubernetes' quantity grammar (apimachinery resource/quantity.go), restricted to what a size can
# be: no sign, and no milli/micro/nano suffixes (fractions of a byte).
_QUANTITY = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[kMGTPE]|[eE][+-]?[0-9]+)?$")
_SIZE_TYPO = re.compile(r"^([0-9]+)\s*([kmgtpe])i?b?$", re.IGNORECASE)
# Prometheus' duration syntax (prometheus/common model/time.go): units largest first, each once.
_DURATION = re.compile(r"^(?:[0-9]+y)?(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RELEASE = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Gitea's user names (models/user: IsValidUsername) and the reserved ones an admin might pick.
_GITEA_USER = re.compile(r"^[0-9A-Za-z][-.\w]*$")
_GITEA_USER_BAD = re.compile(r"[-._]{2,}|[-._]$")
_GITEA_RESERVED = frozenset({"admin", "api", "assets", "ghost", "user", "login", "explore", "install", "org",
                             "repo", "new", "help", "metrics", "notifications", "search", "debug", "error"})
NODE_PORTS = (30000, 32767)  # kube-apiserver's default --service-node-port-range


def ipv4_problem(value: str) -> str | None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return "is not an IPv4 address: write four numbers 0-255 joined by dots, e.g. 192.168.1.70"
    return None


def parse_pool(value: str) -> Pool:
    """The first and last address of a MetalLB pool written `first-last` or as a CIDR;
    ValueError saying how to write it."""
    if "-" in value:
        first_text, _, last_text = value.partition("-")
        try:
            first, last = ipaddress.IPv4Address(first_text), ipaddress.IPv4Address(last_text)
        except ValueError:
            raise ValueError("is not a range of two IPv4 addresses: write it like "
                             "192.168.1.200-192.168.1.210 (no spaces)") from None
        if first > last:
            raise ValueError(f"starts after it ends: write the lower address first ({last}-{first})")
        return first, last
    if "/" not in value:
        raise ValueError("is neither first-last nor a CIDR: write 192.168.1.200-192.168.1.210 "
                         "or 192.168.1.192/28")
    try:
        network = ipaddress.IPv4Network(value)
    except ipaddress.NetmaskValueError:
        raise ValueError("has a bad prefix length: a CIDR ends in /0 to /32, e.g. 192.168.1.192/28") from None
    except ValueError:
        try:
            network = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise ValueError("is not an IPv4 CIDR: write it like 192.168.1.192/28") from None
        raise ValueError(f"has host bits set: the network is {network}") from None
    return network.network_address, network.broadcast_address


def pool_problem(value: str) -> str | None:
    try:
        parse_pool(value)
    except ValueError as e:
        return str(e)
    return None


def in_pool(address: str, pool: str) -> bool:
    """Whether `address` is one MetalLB may hand out from `pool` (both already valid)."""
    first, last = parse_pool(pool)
    return first <= ipaddress.IPv4Address(address) <= last


def size_problem(value: str) -> str | None:
    if _QUANTITY.match(value):
        mantissa = re.match(r"[0-9.]*", value)
        if mantissa and re.search(r"[1-9]", mantissa[0]):
            return None
        return "is zero: give the volume a size, e.g. 10Gi"
    typo = _SIZE_TYPO.match(value)
    suggestion = f" (did you mean {typo[1]}{typo[2].upper()}i?)" if typo else ""
    return f"is not a Kubernetes size{suggestion}: write a number and a unit, e.g. 10Gi or 500Mi"


def duration_problem(value: str) -> str | None:
    if value != "0" and not (value and _DURATION.match(value)):
        return ("is not a duration: write a number and a unit (ms, s, m, h, d, w, y), e.g. 30s, 12h or 5d; "
                "combined units go largest first, e.g. 1d12h")
    if not re.search(r"[1-9]", value):
        return "is zero: give a duration longer than 0, e.g. 30s or 5d"
    return None


def sha256_problem(value: str) -> str | None:
    if _SHA256.match(value):
        return None
    return "is not a sha256: write its 64 lowercase hex digits, as `sha256sum FILE` prints them"


def url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        return None
    return "is not an http(s) URL: write it like https://host/path/metallb-native.yaml"


def release_problem(value: str) -> str | None:
    return None if _RELEASE.match(value) else "is not a release tag: write it like v0.16.1"


def pinned_image_problem(value: str) -> str | None:
    """An image the platform runs: a valid reference pinned to a version tag or a digest."""
    try:
        reference = parse_reference(value)
    except ValueError as e:
        return f"is not an image reference ({str(e).partition(': ')[2]}): write it like gitea/gitea:1.22.6"
    if reference.digest is None and reference.tag is None:
        return "has no tag: pin a version, e.g. name:1.2.3 (or a digest, name@sha256:…)"
    if reference.digest is None and reference.tag == "latest":
        return "is tagged latest: pin a version, e.g. name:1.2.3, so a re-run installs the same thing"
    return None


def repository_prefix_problem(value: str) -> str | None:
    """Where images live: `host:port/path` or `path`, without a tag; "" means the default."""
    if not value:
        return None
    try:
        parse_reference(f"{value}/probe:1")
    except ValueError:
        return "is not a repository prefix: write host:port/path without a tag, e.g. 192.168.1.70:30500/drone-kit"
    return None


def project_problem(value: str) -> str | None:
    """The path part of images between the registry and the app's name."""
    try:
        parse_reference(f"127.0.0.1:5000/{value}/app:1")
    except ValueError:
        return "is not an image path: use lowercase letters, digits and . _ - (parts joined by /), e.g. our-task"
    return None


def dns_label_problem(value: str) -> str | None:
    if len(value) <= 63 and _DNS_LABEL.match(value):
        return None
    return "is not a DNS-1123 label: lowercase letters, digits and -, starting and ending alphanumeric, at most 63"


def dns_name_problem(value: str) -> str | None:
    """A Kubernetes object name (DNS-1123 subdomain), such as a node or StorageClass name."""
    if len(value) <= 253 and all(_DNS_LABEL.match(label) for label in value.split(".")):
        return None
    return "is not a Kubernetes name: lowercase letters, digits, - and ., starting and ending alphanumeric"


def optional_pinned_image_problem(value: str) -> str | None:
    return pinned_image_problem(value) if value else None


def optional_dns_name_problem(value: str) -> str | None:
    return dns_name_problem(value) if value else None


def gitea_user_problem(value: str) -> str | None:
    if value.lower() in _GITEA_RESERVED:
        return "is a name Gitea reserves: pick another, e.g. drone-kit-admin"
    if _GITEA_USER.match(value) and not _GITEA_USER_BAD.search(value):
        return None
    return "is not a Gitea user name: letters, digits, - _ . (not two in a row, not last), starting alphanumeric"


def email_problem(value: str) -> str | None:
    return None if _EMAIL.match(value) else "is not an email address: write it like admin@example.com"


def port_problem(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "is not a TCP port: pick one from 1 to 65535"


def node_port_problem(value: int) -> str | None:
    low, high = NODE_PORTS
    if low <= value <= high:
        return None
    return f"is outside Kubernetes' NodePort range {low}-{high}: pick a port inside it, e.g. 30500"


def positive_problem(value: float) -> str | None:
    return None if value > 0 else "is not more than 0: give a positive number"
