"""`GET /deliveries`: the outbox, newest first, a page at a time (`limit`, capped; `before`, the
id the next page starts below; `status`), each hook summed up without its body or headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from drone_kit.shim.outbox import STATUSES, Hook

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class DeliveriesQuery:
    limit: int = DEFAULT_LIMIT
    before: int | None = None
    status: str | None = None

    def next_page(self, last_id: int) -> str:
        """The query string of the page after one that ended with hook `last_id`."""
        return urlencode({"limit": self.limit, "before": last_id, **({"status": self.status} if self.status else {})})


def _whole_number(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def deliveries_query(params: Mapping[str, str]) -> DeliveriesQuery:
    """Pure: the page asked for; ValueError naming the parameter when it makes no sense."""
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise ValueError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
    limit = _whole_number(params, "limit", 1, MAX_LIMIT)
    return DeliveriesQuery(DEFAULT_LIMIT if limit is None else limit,
                           _whole_number(params, "before", 1, 2**63 - 1), status)


def delivery_summary(hook: Hook) -> dict:
    """Pure: what /deliveries shows of a hook."""
    return {"id": hook.id, "delivery": hook.delivery, "repo": hook.repo, "event": hook.event, "status": hook.status,
            "attempts": hook.attempts, "received": hook.received, "finished": hook.finished,
            "error": hook.last_error}
