"""Pure: a repository's OWNER/NAME, as Gitea and Drone both name repositories in their API paths."""

from __future__ import annotations

from urllib.parse import quote


def api_path(slug: str) -> str | None:
    """`owner/name` quoted for a URL path; None when `slug` is not OWNER/NAME."""
    owner, _, name = slug.partition("/")
    if not owner or not name or "/" in name:
        return None
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"
