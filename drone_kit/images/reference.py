"""Image references (`host:port/name:tag@sha256:…`), parsed as Docker parses them. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

DEFAULT_REGISTRY = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The repository with its registry, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str) -> ImageRef:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> ImageRef:
        return replace(self, tag=None, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))


def parse_reference(text: str) -> ImageRef:
    """Pure: the parts of an image reference; ValueError saying what is wrong with it."""
    remainder, _, digest = text.strip().partition("@")
    if digest and not _DIGEST.match(digest):
        raise ValueError(f"{text!r}: the digest must look like sha256:<64 hex digits>")
    first, slash, rest = remainder.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = first, rest
        if not _HOST.match(registry):
            raise ValueError(f"{text!r}: {registry!r} is not a valid registry host[:port]")
    else:
        registry, path = DEFAULT_REGISTRY, remainder
    repository, colon, tag = path.rpartition(":") if ":" in path else (path, "", "")
    if colon and not _TAG.match(tag):
        raise ValueError(f"{text!r}: tag {tag!r} is not valid (letters, digits, _ . -; at most 128)")
    if not _REPOSITORY.match(repository):
        hint = " (repository names must be lowercase)" if repository.lower() != repository else ""
        raise ValueError(f"{text!r}: {repository!r} is not a valid repository name{hint}")
    if registry == DEFAULT_REGISTRY and "/" not in repository:
        repository = f"library/{repository}"
    return ImageRef(registry, repository, tag or None, digest or None)
