"""Writes for masking sessions: lend a pool number to two parties, extend, close and expire.

A session is a two-way rule on a pool number, valid until `expires_at`, plus a status that is a
state machine (`MaskingSession.TRANSITIONS`): active -> closed | expired, and nothing after.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contactcenter.core.exceptions import ApplicationError
from contactcenter.phones import mask
from masking.models import MaskingNumber, MaskingRoute, MaskingRule, MaskingSession
from masking.selectors import masking_pool_candidates, masking_rules_blocking
from masking.services.rules import _routes_open, _rule_deactivate, _serialize_numbers, clean_phone

logger = logging.getLogger(__name__)

Status = MaskingSession.Status

#: Rounds of "look for the pair's session, else allocate" when concurrent requests win races.
MAX_ATTEMPTS = 4


class _PoolExhausted(Exception):
    pass


def _max_ttl() -> int:
    return int(getattr(settings, "MASKING_SESSION_MAX_TTL_SECONDS", 7 * 24 * 3600))


def masking_session_clean(*, party_a: Any, party_b: Any, ttl_seconds: Any) -> tuple[str, str, int]:
    """Normalised (party_a, party_b, ttl_seconds), or ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    a = clean_phone(party_a, "party_a", errors, indian=True)
    b = clean_phone(party_b, "party_b", errors, indian=True)
    if a and b and a == b:
        errors["party_b"] = ["Party B must differ from party A."]
    numbers = {name: number for name, number in (("party_a", a), ("party_b", b)) if number and name not in errors}
    if numbers:
        taken = set(MaskingNumber.objects.filter(number__in=numbers.values()).values_list("number", flat=True))
        for name, number in numbers.items():
            if number in taken:
                errors[name] = ["This is a masking number: a masked call cannot be transferred to it."]
    ttl = ttl_seconds
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= _max_ttl():
        errors["ttl_seconds"] = [f"A whole number of seconds from 1 to {_max_ttl()}."]
    if errors:
        raise ValidationError(errors)
    return a, b, ttl


def _pair(a: str, b: str) -> Q:
    return Q(party_a=a, party_b=b) | Q(party_a=b, party_b=a)


def _set_status(session: MaskingSession, *, to: str, reason: str, at: datetime) -> None:
    """Apply a transition to a session whose row the caller has locked."""
    if to not in MaskingSession.TRANSITIONS[session.status]:
        raise ApplicationError(
            f"The session is {session.status}: it cannot become {to}.",
            code="invalid_transition",
            status_code=409,
            extra={"status": session.status},
        )
    session.status = to
    session.closed_at = at
    session.close_reason = reason[:200]
    session.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    if session.rule.active:
        _rule_deactivate(session.rule, at=at)
    logger.info("masking session %s %s (%s)", session.pk, to, reason)


def masking_session_transition(
    *, session: MaskingSession, to: str, reason: str = "", at: datetime | None = None
) -> MaskingSession:
    """Move a session to `to` (closed or expired), stopping its rule; 409 if not allowed."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = (
            MaskingSession.objects.select_for_update(of=("self",))
            .select_related("rule", "masking_number")
            .get(pk=session.pk)
        )
        _set_status(locked, to=to, reason=reason or to, at=at)
    return locked


def masking_session_close(*, session: MaskingSession, reason: str = "closed") -> MaskingSession:
    """Close a session now: its number stops connecting the parties at once."""
    return masking_session_transition(session=session, to=Status.CLOSED, reason=reason)


def session_expire_for_rule(*, rule_id: int, at: datetime) -> bool:
    """If the rule backs an active session, expire the session (and so the rule); returns
    whether there was one. Locks the session before the rule, like every session write."""
    session = (
        MaskingSession.objects.select_for_update(of=("self",))
        .select_related("rule")
        .filter(rule_id=rule_id, status=Status.ACTIVE)
        .first()
    )
    if session is None:
        return False
    _set_status(session, to=Status.EXPIRED, reason="ttl elapsed", at=at)
    return True


def masking_sessions_expire_due(*, at: datetime | None = None, batch_size: int = 200) -> int:
    """Expire every active session whose TTL has elapsed (the periodic task); returns how many.

    Such sessions stopped matching at their expiry already (their rule's window ended); this
    records it, frees the rule's routes and starts the cool-off clock from `expires_at`.
    """
    at = at or timezone.now()
    expired = 0
    while True:
        due = list(
            MaskingSession.objects.filter(status=Status.ACTIVE, expires_at__lte=at)
            .order_by("expires_at", "pk")
            .only("pk")[:batch_size]
        )
        for session in due:
            try:
                masking_session_transition(session=session, to=Status.EXPIRED, reason="ttl elapsed", at=at)
            except ApplicationError:
                continue  # closed by someone else meanwhile
            expired += 1
        if len(due) < batch_size:
            return expired


def _extend_existing(*, parties: tuple[str, str], ttl: int) -> MaskingSession | None:
    """The pair's active session, its expiry pushed to now + ttl if that is later; else None."""
    with transaction.atomic():
        at = timezone.now()
        existing = (
            MaskingSession.objects.select_for_update(of=("self",))
            .select_related("rule", "masking_number")
            .filter(_pair(*parties), status=Status.ACTIVE)
            .first()
        )
        if existing is None:
            return None
        if existing.expires_at <= at:
            _set_status(existing, to=Status.EXPIRED, reason="ttl elapsed", at=at)
            return None
        expires_at = at + timedelta(seconds=ttl)
        if expires_at > existing.expires_at:
            existing.expires_at = expires_at
            existing.save(update_fields=["expires_at", "updated_at"])
            existing.rule.valid_until = expires_at
            existing.rule.save(update_fields=["valid_until", "updated_at"])
            MaskingRoute.objects.filter(rule=existing.rule).update(valid_until=expires_at)
        return existing


def _allocate(
    *, parties: tuple[str, str], ttl: int, reference: str, created_by: AbstractBaseUser | None
) -> MaskingSession | None:
    """A new session on the first free candidate; None if every candidate was taken meanwhile."""
    a, b = parties
    candidates = masking_pool_candidates(parties=parties, at=timezone.now())
    if not candidates:
        raise _PoolExhausted
    for number_id in candidates:
        with transaction.atomic():
            _serialize_numbers(number_id, a, b)  # before any row lock, as every writer of rules does
            number = MaskingNumber.objects.select_for_update().filter(pk=number_id, active=True, pooled=True).first()
            if number is None:
                continue
            # Under the lock the answer is final: whoever allocated this number before us has
            # committed, and whoever comes next waits for us.
            at = timezone.now()
            if masking_rules_blocking(parties=parties, at=at).filter(masking_number=number).exists():
                logger.debug("masking number %s was taken for these parties meanwhile: next", mask(number.pk))
                continue
            expires_at = at + timedelta(seconds=ttl)
            rule = MaskingRule(
                masking_number=number,
                party_a=a,
                party_b=b,
                two_way=True,
                valid_from=at,
                valid_until=expires_at,
                reference=reference,
                created_by=created_by,
            )
            _routes_open(rule, at=at)
            session = MaskingSession.objects.create(
                rule=rule,
                masking_number=number,
                party_a=a,
                party_b=b,
                expires_at=expires_at,
                reference=reference,
                created_by=created_by,
            )
            number.last_allocated_at = at
            number.save(update_fields=["last_allocated_at", "updated_at"])
        logger.info("masking session %s allocated number %s", session.pk, mask(number.pk))
        return session
    return None


def masking_session_create(
    *,
    party_a: str,
    party_b: str,
    ttl_seconds: int,
    reference: str = "",
    created_by: AbstractBaseUser | None = None,
) -> tuple[MaskingSession, bool]:
    """Lend a pool number to two parties for `ttl_seconds`; returns (session, created).

    - The same pair (either order) asking again gets its active session back, its expiry pushed
      to now + ttl when that is later (`created` False).
    - Otherwise the number is one that neither party uses with anyone else, and that neither
      used with anyone else within MASKING_COOLOFF_SECONDS; the number the pair shared before
      is preferred, then the least recently allocated.
    - Concurrent requests are safe: allocation re-checks under the number's row lock, and the
      one-active-session-per-pair constraint turns a same-pair race into "return the winner's".

    Raises ValidationError (400) or ApplicationError `no_number_available` (409).
    """
    a, b, ttl = masking_session_clean(party_a=party_a, party_b=party_b, ttl_seconds=ttl_seconds)
    user = created_by if created_by is not None and created_by.is_authenticated else None
    reference = (reference or "").strip()[:100]
    for _ in range(MAX_ATTEMPTS):
        try:
            existing = _extend_existing(parties=(a, b), ttl=ttl)
            if existing is not None:
                return existing, False
            session = _allocate(parties=(a, b), ttl=ttl, reference=reference, created_by=user)
        except IntegrityError:
            # A concurrent request for this pair committed first: look again (and find it).
            logger.debug("masking session race for one pair: looking again")
            continue
        except _PoolExhausted:
            break
        if session is not None:
            return session, True
    raise ApplicationError(
        "No masking number in the pool is free for these parties. Add numbers to the pool, or wait "
        "for recently released ones to finish their cool-off.",
        code="no_number_available",
        status_code=409,
    )
