"""Reads shared by the apps: the list of erased numbers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from django.conf import settings

from contactcenter.core.models import ErasedNumber

_KEY_PURPOSE = b"contactcenter.erasure.number-hash"


def erasure_hash_keys() -> list[bytes]:
    """The key new tombstones are hashed with, then older keys that may have hashed earlier ones.

    ERASURE_HASH_KEY when set (one key: it exists so that the list outlives SECRET_KEY
    rotations); else keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS, so that a rotation
    with the old key kept as a fallback still recognises tombstones made before it.
    """
    configured = getattr(settings, "ERASURE_HASH_KEY", "")
    if configured:
        return [configured.encode()]
    secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [hmac.new(key.encode(), _KEY_PURPOSE, hashlib.sha256).digest() for key in secret_keys if key]


def number_hash(e164: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 of an E.164 number: without the key, a hash of a 10-digit number would be
    reversed by trying every number; with it, the tombstone list reveals nothing."""
    return hmac.new(key or erasure_hash_keys()[0], e164.encode(), hashlib.sha256).hexdigest()


def erased_number_lookup() -> Callable[[str], datetime | None] | None:
    """A function telling when an E.164 number was erased (None: never), or None when no number
    ever was (callers then skip the check entirely).

    Loads the tombstones once: call it once per sync run, not per record.
    """
    erased = dict(ErasedNumber.objects.values_list("number_hash", "erased_at"))
    if not erased:
        return None
    keys = erasure_hash_keys()

    def erased_at(e164: str) -> datetime | None:
        if not e164:
            return None
        for key in keys:
            found = erased.get(number_hash(e164, key=key))
            if found is not None:
                return found
        return None

    return erased_at
