"""Writes for masking numbers and rules. Routes are derived here, in the same transaction.

Locking protocol: any write that makes a rule answer on a masking number (create, activate,
change, and session allocation) first takes that number's row lock (`select_for_update`). Writes
to one number are therefore serialised, and the checks made under the lock (who already uses
the number) still hold when the transaction commits. The unique constraint on MaskingRoute is the
backstop if anything bypasses the protocol. Row locks are always taken in the order number,
session, rule, so no two writers wait on each other in a circle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.locks import advisory_xact_locks
from contactcenter.phones import InvalidPhoneNumber, mask, to_e164
from masking.models import MaskingNumber, MaskingRoute, MaskingRule

logger = logging.getLogger(__name__)

RULE_FIELDS = ("masking_number", "party_a", "party_b", "two_way", "valid_from", "valid_until", "active", "reference")
DESTINATION_ONLY_INDIAN = "Smartflo transfers masked calls to 10-digit Indian numbers only."
# A rule's window lies within these: outside them a time is a typo, and years long past do not
# even render as ISO 8601 in Asia/Kolkata (local mean time had an offset of +05:53:28).
WINDOW_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
WINDOW_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


# --- Validation ------------------------------------------------------------------------------


def clean_phone(value: Any, field_name: str, errors: dict[str, list[str]], *, indian: bool) -> str | None:
    if value is None or isinstance(value, bool) or not str(value).strip():
        errors[field_name] = ["A phone number is required."]
        return None
    try:
        # Numbers Smartflo dials (party B, a two-way party A, the DID) must exist; a one-way
        # party A is a caller id, which is what the network sends.
        number = to_e164(value, strict=indian)
    except InvalidPhoneNumber as exc:
        errors[field_name] = [str(exc)]
        return None
    if indian and not number.startswith("+91"):
        errors[field_name] = [DESTINATION_ONLY_INDIAN]
        return None
    return number


WINDOW_ORDER = "Must be after “valid from”, the start of the window."


def masking_rule_clean(
    *,
    masking_number: Any,
    party_a: Any,
    party_b: Any,
    two_way: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """Normalise and check a rule's fields; raise ValidationError keyed by field.

    Checks what needs no lock: number formats, distinct parties, no party that is itself a
    masking number (the transfer would loop back into the API Dialplan), an ordered window.
    Clashes with other rules are checked under the number's lock by the writers.
    """
    errors: dict[str, list[str]] = {}
    number = clean_phone(masking_number, "masking_number", errors, indian=True)
    # Party A is only ever dialled on a two-way rule; party B always is.
    a = clean_phone(party_a, "party_a", errors, indian=two_way)
    b = clean_phone(party_b, "party_b", errors, indian=True)
    if a and b and a == b:
        errors["party_b"] = ["Party B must differ from party A."]
    parties = {name: value for name, value in (("party_a", a), ("party_b", b)) if value}
    if parties:
        taken = set(MaskingNumber.objects.filter(number__in=parties.values()).values_list("number", flat=True))
        if number:
            taken.add(number)
        for name, value in parties.items():
            if value in taken and name not in errors:
                errors[name] = ["This is a masking number: a masked call cannot be transferred to it."]
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if value is not None and timezone.is_naive(value):
            errors[name] = ["Give a time zone, or an ISO 8601 time with an offset."]
        elif value is not None and not WINDOW_EARLIEST <= value < WINDOW_LATEST:
            errors[name] = ["Give a time between the years 2000 and 2099."]
    if (
        valid_from is not None
        and valid_until is not None
        and "valid_from" not in errors
        and "valid_until" not in errors
        and valid_until <= valid_from
    ):
        errors["valid_until"] = [WINDOW_ORDER]
    if errors:
        raise ValidationError(errors)
    return {
        "masking_number": number,
        "party_a": a,
        "party_b": b,
        "two_way": bool(two_way),
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


# --- Numbers ---------------------------------------------------------------------------------


def _serialize_numbers(*numbers: str) -> None:
    """Until the transaction ends, make "is this a masking number?" and "does an active rule
    transfer calls to it?" one question per number: a number being added and a rule being opened
    that dials it cannot both pass their check (advisory locks: `core/locks.py`). Every writer
    takes all the numbers it touches (the rule's masking number and parties) in one call, before
    any row lock, so no two wait on each other in a cycle."""
    advisory_xact_locks("masking.number", *numbers)


def _dialled_by(number: str) -> MaskingRule | None:
    """An active rule, not yet past its window, that transfers calls to `number` (its party B,
    or party A of a two-way rule): such a number must not become a masking number, or the
    transfer would land back in the API Dialplan."""
    now = timezone.now()
    return (
        MaskingRule.objects.filter(Q(party_b=number) | Q(two_way=True, party_a=number), active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("pk")
        .first()
    )


def _refuse_if_dialled(number: str, field: str) -> None:
    rule = _dialled_by(number)
    if rule is not None:
        raise ValidationError(
            {
                field: [
                    f"Masking rule #{rule.pk} transfers calls to this number: as a masking number they would "
                    "loop back here. Deactivate or change that rule first."
                ]
            }
        )


def masking_number_lock(*, number: str, register: bool = False) -> MaskingNumber:
    """The MaskingNumber row for an E.164 number, locked until the transaction ends.

    With `register`, an unknown number is added (active, outside the session pool): a rule
    naming a new DID is how most deployments first tell us about it.
    """
    locked = MaskingNumber.objects.select_for_update().filter(number=number).first()
    if locked is not None:
        return locked
    if not register:
        raise ValidationError({"masking_number": ["Not a masking number: add it under Masking numbers first."]})
    _serialize_numbers(number)
    _refuse_if_dialled(number, "masking_number")
    created, was_created = MaskingNumber.objects.get_or_create(number=number)
    if was_created:
        logger.info("masking number %s registered", mask(number))
        return created  # our own uncommitted row: nobody else can lock it yet
    return MaskingNumber.objects.select_for_update().get(pk=created.pk)


def masking_number_clean(*, number: Any) -> str:
    """A new masking number in E.164, or ValidationError keyed `number`: not an Indian number,
    one we have already, or one a rule transfers calls to."""
    errors: dict[str, list[str]] = {}
    e164 = clean_phone(number, "number", errors, indian=True)
    if e164 and MaskingNumber.objects.filter(number=e164).exists():
        errors["number"] = ["This masking number exists already."]
    if errors:
        raise ValidationError(errors)
    _refuse_if_dialled(e164, "number")
    return e164


def masking_number_create(*, number: str, label: str = "", pooled: bool = False, active: bool = True) -> MaskingNumber:
    e164 = masking_number_clean(number=number)
    try:
        with transaction.atomic():
            _serialize_numbers(e164)
            _refuse_if_dialled(e164, "number")  # again, now that no rule can open on it meanwhile
            return MaskingNumber.objects.create(number=e164, label=label.strip(), pooled=pooled, active=active)
    except IntegrityError as exc:
        raise ValidationError({"number": ["This masking number exists already."]}) from exc


def masking_number_update(*, number: MaskingNumber, data: dict[str, Any]) -> MaskingNumber:
    """Change a number's `label`, `active` or `pooled` (those in `data`).

    The number itself is the key: it cannot change (add the new DID and move the rules).
    `active` takes effect on the next resolution, through the routes' copy of it.
    """
    if "number" in data and data["number"] != number.number:
        raise ValidationError({"number": ["A masking number cannot be renumbered: add the new one instead."]})
    values = {k: v for k, v in data.items() if k in ("label", "active", "pooled")}
    if "label" in values:
        values["label"] = (values["label"] or "").strip()
    with transaction.atomic():
        locked = MaskingNumber.objects.select_for_update().get(pk=number.pk)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*values, "updated_at"])
        if "active" in values:
            MaskingRoute.objects.filter(masking_number=locked).update(number_active=locked.active)
    return locked


def masking_numbers_update(*, numbers: Iterable[str], **values: bool) -> int:
    """Switch `active` and/or `pooled` on many numbers at once (admin bulk actions).

    Takes effect on the next resolution: routes carry the number's `active`.
    """
    allowed = {k: v for k, v in values.items() if k in ("active", "pooled")}
    if not allowed:
        return 0
    keys = list(numbers)
    with transaction.atomic():
        numbers_locked = MaskingNumber.objects.select_for_update().filter(pk__in=keys).order_by("pk")
        locked = list(numbers_locked.values_list("pk", flat=True))
        count = MaskingNumber.objects.filter(pk__in=locked).update(**allowed, updated_at=timezone.now())
        if "active" in allowed:
            MaskingRoute.objects.filter(masking_number__in=locked).update(number_active=allowed["active"])
    return count


# --- Routes ----------------------------------------------------------------------------------


def _conflict(rule: MaskingRule, clash: MaskingRoute | None) -> ApplicationError:
    if clash is None:
        return ApplicationError(
            "Another active rule already answers for one of these callers on this masking number.",
            code="rule_conflict",
            status_code=409,
        )
    field_name = "party_a" if clash.caller == rule.party_a else "party_b"
    message = (
        f"{clash.caller} dialling {rule.masking_number.number} already reaches {clash.callee} "
        f"(rule #{clash.rule_id}); deactivate that rule first."
    )
    return ApplicationError(
        message,
        code="rule_conflict",
        status_code=409,
        extra={"fields": {field_name: [message]}, "rule_id": clash.rule_id},
    )


def _rule_deactivate(rule: MaskingRule, *, at: datetime) -> None:
    """Stop an active rule: no routes, and `ended_at` starts the parties' cool-off."""
    rule.active = False
    rule.ended_at = min(at, rule.valid_until) if rule.valid_until else at
    rule.save(update_fields=["active", "ended_at", "updated_at"])
    MaskingRoute.objects.filter(rule=rule).delete()


def _retire_expired(*, number_id: str, callers: list[str], at: datetime, exclude_pk: int | None) -> None:
    """Deactivate active rules on the number for these callers whose window has ended.

    An expired rule no longer matches, but it would still hold its routes (and so block a new
    rule for the same caller) until deactivated; doing it here makes that invisible. Row locks
    are taken in the project-wide order: number (held by the caller), session, rule.
    """
    from masking.services.sessions import session_expire_for_rule

    holders = MaskingRoute.objects.filter(masking_number_id=number_id, caller__in=callers).values("rule_id")
    stale_ids = list(
        MaskingRule.objects.filter(pk__in=holders, active=True, valid_until__lte=at)
        .exclude(pk=exclude_pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for rule_id in stale_ids:
        if session_expire_for_rule(rule_id=rule_id, at=at):
            continue
        rule = MaskingRule.objects.select_for_update().get(pk=rule_id)
        if rule.active:
            _rule_deactivate(rule, at=at)


def _routes_open(rule: MaskingRule, *, at: datetime) -> None:
    """Save `rule` as active with its routes, or raise 409 naming the rule that answers already.

    The caller holds the masking number's lock.
    """
    dialled = [callee for _, callee in rule.callers()]
    _serialize_numbers(*dialled)
    looped = MaskingNumber.objects.filter(number__in=dialled).values_list("number", flat=True).first()
    if looped is not None:  # it became a masking number while the rule was off (or a moment ago)
        raise ApplicationError(
            f"Rule #{rule.pk or 'new'} transfers calls to {mask(looped)}, a masking number now: they would loop "
            "back here. Change the rule's parties first.",
            code="party_is_masking_number",
            status_code=409,
        )
    callers = [caller for caller, _ in rule.callers()]
    _retire_expired(number_id=rule.masking_number_id, callers=callers, at=at, exclude_pk=rule.pk)
    clash = (
        MaskingRoute.objects.filter(masking_number_id=rule.masking_number_id, caller__in=callers)
        .exclude(rule_id=rule.pk)
        .first()
    )
    if clash is not None:
        raise _conflict(rule, clash)
    try:
        with transaction.atomic():
            rule.active = True
            rule.ended_at = None
            rule.save()
            MaskingRoute.objects.bulk_create(
                MaskingRoute(
                    rule=rule,
                    masking_number_id=rule.masking_number_id,
                    caller=caller,
                    callee=callee,
                    valid_from=rule.valid_from,
                    valid_until=rule.valid_until,
                    number_active=rule.masking_number.active,
                )
                for caller, callee in rule.callers()
            )
    except IntegrityError as exc:
        raise _conflict(rule, None) from exc


# --- Rules -----------------------------------------------------------------------------------


def masking_rule_create(
    *,
    masking_number: str,
    party_a: str,
    party_b: str,
    two_way: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    active: bool = True,
    reference: str = "",
    created_by: AbstractBaseUser | None = None,
) -> MaskingRule:
    """Create a rule; an active one starts answering at once (within its window).

    Raises ValidationError (bad fields, 400) or ApplicationError `rule_conflict` (409) when an
    active rule already answers for party A (or, two-way, party B) on that number.
    """
    cleaned = masking_rule_clean(
        masking_number=masking_number,
        party_a=party_a,
        party_b=party_b,
        two_way=two_way,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    now = timezone.now()
    with transaction.atomic():
        _serialize_numbers(cleaned["masking_number"], cleaned["party_a"], cleaned["party_b"])  # first, all at once
        number = masking_number_lock(number=cleaned.pop("masking_number"), register=True)
        rule = MaskingRule(
            masking_number=number,
            **cleaned,
            reference=(reference or "").strip()[:100],
            created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        )
        if active:
            _routes_open(rule, at=now)
        else:
            rule.active = False
            rule.save()
    logger.info("masking rule %s created (%s)", rule.pk, "active" if rule.active else "inactive")
    return rule


def _refuse_session_rule(rule: MaskingRule) -> None:
    session = getattr(rule, "session", None)
    if session is not None:
        raise ApplicationError(
            f"Rule #{rule.pk} belongs to session #{session.pk}: change or close the session instead.",
            code="managed_by_session",
            status_code=409,
            extra={"session_id": session.pk},
        )


def masking_rule_update(*, rule: MaskingRule, data: dict[str, Any]) -> MaskingRule:
    """Change any of a rule's fields (those in `data`); routes follow in the same transaction."""
    _refuse_session_rule(rule)
    merged = {name: getattr(rule, name) for name in RULE_FIELDS if name != "masking_number"}
    merged["masking_number"] = rule.masking_number.number
    merged.update({k: v for k, v in data.items() if k in RULE_FIELDS})
    try:
        cleaned = masking_rule_clean(
            masking_number=merged["masking_number"],
            party_a=merged["party_a"],
            party_b=merged["party_b"],
            two_way=merged["two_way"],
            valid_from=merged["valid_from"],
            valid_until=merged["valid_until"],
        )
    except ValidationError as exc:
        errors = exc.message_dict
        if errors.get("valid_until") == [WINDOW_ORDER] and "valid_until" not in data and "valid_from" in data:
            del errors["valid_until"]  # the start that was changed is what is wrong, not the end kept
            errors["valid_from"] = ["Must be before “valid until”, the end of the window."]
        raise ValidationError(errors) from None
    now = timezone.now()
    with transaction.atomic():
        _serialize_numbers(
            rule.masking_number.number, cleaned["masking_number"], cleaned["party_a"], cleaned["party_b"]
        )
        # Lock both numbers when the rule moves, always in the same order (no deadlock).
        new_number = cleaned.pop("masking_number")
        wanted = sorted({rule.masking_number.number, new_number})
        numbers = {n: masking_number_lock(number=n, register=(n == new_number)) for n in wanted}
        locked = MaskingRule.objects.select_for_update().get(pk=rule.pk)
        was_active = locked.active
        MaskingRoute.objects.filter(rule=locked).delete()
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.masking_number = numbers[new_number]
        locked.reference = (merged.get("reference") or "").strip()[:100]
        if merged["active"]:
            _routes_open(locked, at=now)
        else:
            if was_active:
                locked.ended_at = min(now, locked.valid_until) if locked.valid_until else now
            locked.active = False
            locked.save()
    logger.info("masking rule %s updated", locked.pk)
    return locked


def masking_rule_activate(*, rule: MaskingRule) -> MaskingRule:
    """Make an inactive rule answer again (409 if another active rule has one of its callers)."""
    _refuse_session_rule(rule)
    with transaction.atomic():
        _serialize_numbers(rule.masking_number.number, rule.party_a, rule.party_b)
        masking_number_lock(number=rule.masking_number.number)
        locked = MaskingRule.objects.select_for_update().select_related("masking_number").get(pk=rule.pk)
        if not locked.active:
            _routes_open(locked, at=timezone.now())
    return locked


def masking_rule_deactivate(*, rule: MaskingRule) -> MaskingRule:
    """Stop a rule at once. A session's rule closes its session."""
    session = getattr(rule, "session", None)
    if session is not None:
        from masking.services.sessions import masking_session_close

        if session.status == session.Status.ACTIVE:
            masking_session_close(session=session, reason="rule deactivated")
        rule.refresh_from_db()
        return rule
    with transaction.atomic():
        locked = MaskingRule.objects.select_for_update().get(pk=rule.pk)
        if locked.active:
            _rule_deactivate(locked, at=timezone.now())
    return locked


@dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def masking_rules_set_active(*, rules: Iterable[MaskingRule], active: bool) -> BulkResult:
    """Activate or deactivate many rules, each in its own transaction; report each refusal."""
    result = BulkResult()
    for rule in rules:
        if rule.active == active:
            result.unchanged += 1
            continue
        try:
            if active:
                masking_rule_activate(rule=rule)
            else:
                masking_rule_deactivate(rule=rule)
        except ApplicationError as exc:
            result.errors.append(f"Rule #{rule.pk}: {exc.message}")
        else:
            result.changed += 1
    return result
