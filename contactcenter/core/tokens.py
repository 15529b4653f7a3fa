"""Shared secrets that callers present to us (Smartflo's masking and webhook tokens), with a
rotation window.

Smartflo is configured by hand, DID by DID and webhook by webhook, so its switch to a new token
can never be atomic with ours. Each token therefore has a `*_PREVIOUS` setting: while it is set,
both the current and the previous value are accepted, and the operator switches Smartflo at
leisure, then empties `*_PREVIOUS`. A request that still authenticates with the previous token
logs one WARNING per process, so the operator can see whether anything still sends it.
"""

from __future__ import annotations

import enum
import hmac
import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


class TokenMatch(enum.Enum):
    NONE = "none"
    CURRENT = "current"
    PREVIOUS = "previous"


def token_match(presented: Iterable[str], *, current: str, previous: str = "") -> TokenMatch:
    """Which configured token (if any) one of the `presented` credentials equals.

    Every presented credential is compared with every configured token, each comparison in
    constant time (hmac.compare_digest) and none skipped once one matched, so the response time
    says nothing about which credential or which token matched. An empty configured token
    matches nothing: with no current token every request is refused, even one carrying the
    previous token.
    """
    if not current:
        return TokenMatch.NONE
    current_bytes = current.encode("utf-8")
    previous_bytes = previous.encode("utf-8") if previous else None
    matched_current = matched_previous = False
    for token in presented:
        given = token.encode("utf-8", "replace")
        matched_current |= hmac.compare_digest(given, current_bytes)
        if previous_bytes is not None:
            matched_previous |= hmac.compare_digest(given, previous_bytes)
    if matched_current:
        return TokenMatch.CURRENT
    if matched_previous:
        return TokenMatch.PREVIOUS
    return TokenMatch.NONE


_warned_previous: set[str] = set()


def warn_previous_token_once(setting: str) -> None:
    """Log, once per process and setting, that a caller still presents the previous token.

    Only the setting's name is logged, never a token.
    """
    if setting in _warned_previous:
        return
    _warned_previous.add(setting)
    logger.warning(
        "a request to %s authenticated with the previous token (%s_PREVIOUS); finish the rotation: "
        "switch every sender to %s, then empty %s_PREVIOUS",
        _ENDPOINTS.get(setting, setting),
        setting,
        setting,
        setting,
    )


_ENDPOINTS = {
    "MASKING_API_TOKEN": "/api/v1/masking/resolve/",
    "SMARTFLO_WEBHOOK_TOKEN": "/api/v1/webhooks/smartflo/",
}


def authenticate_shared_secret(presented: Iterable[str], *, setting: str, current: str, previous: str) -> bool:
    """True when a presented credential is the current or the previous value of `setting`;
    the previous one also logs the rotation warning (once per process)."""
    match = token_match(presented, current=current, previous=previous)
    if match is TokenMatch.PREVIOUS:
        warn_previous_token_once(setting)
    return match is not TokenMatch.NONE
