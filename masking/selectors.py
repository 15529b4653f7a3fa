"""Reads for number masking: the resolution itself, pool availability and the lists.

`masking_resolve` is the one function that decides where a masked call goes; the API Dialplan
endpoint and the admin's "test a call" tool both use it.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from contactcenter.phones import InvalidPhoneNumber, to_e164, to_national
from masking.hotpath import route_lookup
from masking.models import MaskingNumber, MaskingRoute, MaskingRule, MaskingSession, ResolutionLog

logger = logging.getLogger(__name__)

Outcome = ResolutionLog.Outcome


@dataclass(frozen=True)
class Resolution:
    """Where a call goes. `destination` is E.164 (the callee or the fallback), or None: 404."""

    outcome: str
    destination: str | None = None
    rule_id: int | None = None
    fallback: bool = False

    @functools.cached_property
    def answer(self) -> str | None:
        """The national (10-digit) form Smartflo's transfer wants, or None for "no route"."""
        if not self.destination:
            return None
        if len(self.destination) == 13 and self.destination.startswith("+91"):
            return self.destination[3:]  # stored E.164: no need to parse it again
        return to_national(self.destination)


@functools.lru_cache(maxsize=8)
def _parse_fallback(raw: str) -> str | None:
    if not raw:
        return None
    try:
        number = to_e164(raw, strict=False)  # configuration: used as given, if Indian
    except InvalidPhoneNumber:
        number = None
    if number is None or not number.startswith("+91"):
        logger.error("MASKING_FALLBACK_NUMBER is not an Indian number: unmatched calls answer 404")
        return None
    return number


def masking_fallback_number() -> str | None:
    """MASKING_FALLBACK_NUMBER in E.164, or None when unset or unusable."""
    return _parse_fallback(str(getattr(settings, "MASKING_FALLBACK_NUMBER", "") or "").strip())


def masking_unmatched(outcome: str) -> Resolution:
    """The answer for a call no rule takes: the fallback number if configured, else none (404)."""
    fallback = masking_fallback_number()
    return Resolution(outcome=outcome, destination=fallback, fallback=fallback is not None)


def masking_resolve(*, caller: str | None, masking_number: str, at: datetime) -> Resolution:
    """Whom `caller` reaches by dialling `masking_number` at `at` (both E.164; caller None = withheld).

    One query (masking.hotpath): the route for (number, caller), with the number's state and
    whether `at` falls inside its rule's window.
    """
    if caller is None:
        return masking_unmatched(Outcome.CALLER_WITHHELD)
    row = route_lookup(masking_number=masking_number, caller=caller, at=at)
    if row is None:
        return masking_unmatched(Outcome.NO_RULE)
    callee, rule_id, number_active, started, not_ended = row
    if not number_active:
        outcome = Outcome.NUMBER_INACTIVE
    elif not started:
        outcome = Outcome.NOT_YET_VALID
    elif not not_ended:
        outcome = Outcome.EXPIRED
    else:
        return Resolution(outcome=Outcome.MATCHED, destination=callee, rule_id=rule_id)
    unmatched = masking_unmatched(outcome)
    return Resolution(unmatched.outcome, unmatched.destination, rule_id, unmatched.fallback)


def masking_rules_for_caller(*, caller: str, masking_number: str) -> QuerySet[MaskingRule]:
    """Every rule on the number that involves the caller, any state: the "test a call" context."""
    return (
        MaskingRule.objects.filter(masking_number__number=masking_number)
        .filter(Q(party_a=caller) | Q(party_b=caller))
        .select_related("masking_number")
        .order_by("-active", "-pk")
    )


def masking_route_clash(
    *, masking_number: str, callers: list[str], at: datetime, exclude_rule_id: int | None = None
) -> MaskingRoute | None:
    """The route of another unexpired active rule already answering one of `callers` on the
    number: a preview for forms (the writers re-check under the number's lock)."""
    return (
        MaskingRoute.objects.filter(masking_number__number=masking_number, caller__in=callers)
        .filter(Q(rule__valid_until__isnull=True) | Q(rule__valid_until__gt=at))
        .exclude(rule_id=exclude_rule_id)
        .first()
    )


# --- The session pool ------------------------------------------------------------------------


def masking_cooloff() -> timedelta:
    return timedelta(seconds=max(0, int(getattr(settings, "MASKING_COOLOFF_SECONDS", 0))))


def masking_rules_blocking(*, parties: tuple[str, str], at: datetime) -> QuerySet[MaskingRule]:
    """Rules that keep a number away from a new session between `parties`.

    A number is unavailable to the pair while it holds any rule that involves either party and
    is live or scheduled, or that ended less than the cool-off ago, unless that ended rule was
    between the same two people (getting their old number back is what they would expect).
    """
    a, b = parties
    cutoff = at - masking_cooloff()
    involving = Q(party_a__in=parties) | Q(party_b__in=parties)
    same_pair = Q(party_a=a, party_b=b) | Q(party_a=b, party_b=a)
    not_over = Q(active=True) & (Q(valid_until__isnull=True) | Q(valid_until__gt=at))
    cooling = Q(active=True, valid_until__gt=cutoff) | Q(active=False, ended_at__gt=cutoff)
    return MaskingRule.objects.filter(involving).filter(not_over | (cooling & ~same_pair))


def masking_pool_candidates(*, parties: tuple[str, str], at: datetime, limit: int = 20) -> list[int]:
    """Ids of pool numbers free for the pair, best first.

    Best is the number the pair last shared, then the least recently allocated (spreading wear
    and giving released numbers the longest rest). The caller must re-check under the number's
    row lock: this is a snapshot.
    """
    a, b = parties
    blocked = masking_rules_blocking(parties=parties, at=at).values("masking_number_id")
    shared_before = MaskingRule.objects.filter(masking_number=OuterRef("pk")).filter(
        Q(party_a=a, party_b=b) | Q(party_a=b, party_b=a)
    )
    numbers = (
        MaskingNumber.objects.filter(active=True, pooled=True)
        .exclude(pk__in=blocked)
        .annotate(shared_before=Exists(shared_before))
        .order_by("-shared_before", F("last_allocated_at").asc(nulls_first=True), "pk")
    )
    return list(numbers.values_list("pk", flat=True)[:limit])


# --- Lists -----------------------------------------------------------------------------------


def masking_rule_list(
    *, masking_number: str | None = None, party: str | None = None, active: bool | None = None
) -> QuerySet[MaskingRule]:
    rules = MaskingRule.objects.select_related("masking_number", "created_by", "session")
    if masking_number:
        rules = rules.filter(masking_number__number=masking_number)
    if party:
        rules = rules.filter(Q(party_a=party) | Q(party_b=party))
    if active is not None:
        rules = rules.filter(active=active)
    return rules.order_by("-pk")


def masking_session_list(*, status: str | None = None, party: str | None = None) -> QuerySet[MaskingSession]:
    sessions = MaskingSession.objects.select_related("masking_number", "created_by")
    if status:
        sessions = sessions.filter(status=status)
    if party:
        sessions = sessions.filter(Q(party_a=party) | Q(party_b=party))
    return sessions.order_by("-pk")
