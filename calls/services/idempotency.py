"""`Idempotency-Key`: the first answer to a request is stored and replayed for repeats."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from calls.models import IdempotentRequest
from contactcenter.core.exceptions import ApplicationError

#: Outcomes a retry must replay: Smartflo refused the call, or may have placed it.
FINAL_ERROR_CODES = frozenset({"provider_rejected", "provider_unknown_outcome"})
STALE_AFTER = timedelta(minutes=2)


def request_fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def idempotent_call(*, user, key: str | None, fingerprint: str, run: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run `run()` once per (user, key) and return its (status, body); repeats get the same.

    Only answers a retry must see again are kept: success, a refusal by Smartflo, an unknown
    outcome. A repeat while the first is still running answers 409; the same key with a different
    body answers 422, since replaying the first answer would be wrong for it.
    """
    if not key:
        return run()
    if len(key) > 200:
        raise ApplicationError(
            "Idempotency-Key is longer than 200 characters.",
            code="invalid",
            extra={"fields": {"Idempotency-Key": ["At most 200 characters."]}},  # named, as every invalid field
        )
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(user=user, key=key, request_hash=fingerprint)
    except IntegrityError:
        record = IdempotentRequest.objects.get(user=user, key=key)
        if record.status_code is None and record.created_at < timezone.now() - STALE_AFTER:
            # The first request died half-way (a crashed worker): let this one take its place.
            IdempotentRequest.objects.filter(pk=record.pk, status_code__isnull=True).delete()
            return idempotent_call(user=user, key=key, fingerprint=fingerprint, run=run)
        if record.request_hash != fingerprint:
            raise ApplicationError(
                "This Idempotency-Key was used for a different request.",
                code="idempotency_key_reused",
                status_code=422,
            ) from None
        if record.status_code is None:
            raise ApplicationError(
                "The first request with this Idempotency-Key is still being processed.",
                code="request_in_progress",
                status_code=409,
            ) from None
        return record.status_code, record.response_body
    try:
        status, body = run()
    except Exception:
        record.delete()  # an unexpected crash: let a retry run it properly
        raise
    if status < 400 or (isinstance(body, dict) and body.get("code") in FINAL_ERROR_CODES):
        IdempotentRequest.objects.filter(pk=record.pk).update(status_code=status, response_body=body)
    else:
        # Refused before anything was placed (busy agent, Smartflo unreachable): a retry with
        # the same key should really try again, not replay the refusal.
        record.delete()
    return status, body
