"""Pure: whether an admission webhook's refusal means it is not serving yet (try again soon)
rather than that it judged the object (a real refusal, final).

MetalLB's controller is Ready before its webhook serves: it registers the webhook only after
rotating its certificate, so objects applied right after install fail with one of these.
"""

from __future__ import annotations

_NOT_SERVING = (
    "failed calling webhook",  # the API server could not get an answer at all
    "connection refused",
    "context deadline exceeded",
    "no endpoints available for service",
    "x509: certificate signed by unknown authority",  # the caBundle not injected yet
)


def webhook_not_ready(status: int | None, message: str) -> bool:
    text = message.lower()
    return status in (500, 503) and any(sign in text for sign in _NOT_SERVING)
