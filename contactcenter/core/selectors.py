"""Reads shared by the apps: the list of erased numbers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max

from contactcenter.core.models import ErasedNumber

_KEY_PURPOSE = b"contactcenter.erasure.number-hash"


def erasure_hash_keys() -> list[bytes]:
    """The key new tombstones are hashed with, then older keys that may have hashed earlier ones.

    ERASURE_HASH_KEY when set (it exists so that the list outlives SECRET_KEY rotations), then
    keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS: tombstones made before
    ERASURE_HASH_KEY was set were hashed with those, and hold no number to re-hash them with, so
    they are recognised under their own key for as long as it is SECRET_KEY or a fallback.
    """
    configured = getattr(settings, "ERASURE_HASH_KEY", "")
    secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    derived = [hmac.new(key.encode(), _KEY_PURPOSE, hashlib.sha256).digest() for key in secret_keys if key]
    return [configured.encode(), *derived] if configured else derived


def number_hash(e164: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 of an E.164 number: without the key, a hash of a 10-digit number would be
    reversed by trying every number; with it, the tombstone list reveals nothing."""
    return hmac.new(key or erasure_hash_keys()[0], e164.encode(), hashlib.sha256).hexdigest()


def erased_numbers_version() -> tuple[int, int | None, datetime | None]:
    """Changes whenever the erased-number list does: a new tombstone (count, last id) or a repeat
    erasure (its date moves). One small aggregate query: cheap enough to ask before every page a
    long sync stores, so an erasure made meanwhile is honoured without reloading the list."""
    found = ErasedNumber.objects.aggregate(count=Count("pk"), last=Max("pk"), latest=Max("erased_at"))
    return found["count"], found["last"], found["latest"]


def erased_number_lookup() -> Callable[[str], datetime | None] | None:
    """A function telling when an E.164 number was last erased (None: never), or None when no
    number ever was (callers then skip the check entirely).

    Loads the tombstones once: a long run keeps it, and reloads it only when
    `erased_numbers_version()` says the list changed.
    """
    erased = dict(ErasedNumber.objects.values_list("number_hash", "erased_at"))
    if not erased:
        return None
    keys = erasure_hash_keys()

    def erased_at(e164: str) -> datetime | None:
        if not e164:
            return None
        found = [erased[digest] for key in keys if (digest := number_hash(e164, key=key)) in erased]
        return max(found, default=None)

    return erased_at
