"""Erasing one person's data: every row that holds their phone number, in one transaction.

Rows that exist only because of that person are deleted: their calls (with the provider
requests, events, pop-up alerts and stored idempotent answers about them), their call records,
OTP challenges, masking rules and sessions naming them (their routes go with the rule, so the
number stops routing at once), masking resolution log rows and admin history about them. Rows
that also belong to someone else keep existing with the number blanked: an agent's follow-me
number (the agent is deactivated), a note or a record that mentions the number in passing, and
a Smartflo event of someone else's call that names the number elsewhere than as its customer
(every event an agent answers carries `$answered_agent_number`).

Matching: columns that store E.164 are compared exactly; free text and JSON columns (Smartflo's
payloads write numbers in several forms) are searched in the database for the national number,
contiguous or in the usual groupings, and each candidate is confirmed in Python with a pattern
that wants the number to stand alone (not inside a longer run of digits, nor a call id), so an
unrelated value that happens to contain those digits is left alone.

Finally a keyed hash of the number goes into ErasedNumber, so the call-record sync does not
bring the deleted records back from Smartflo (see calls/services/records.py; a run in progress
notices it before its next page).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from agents.models import Agent
from calls.models import CallEvent, CallRecord, CallRecordSyncState, IdempotentRequest, OutboundCall, RingingAlert
from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.models import ErasedNumber
from contactcenter.core.selectors import erasure_hash_keys, number_hash
from contactcenter.phones import InvalidPhoneNumber, mask, to_e164
from masking.models import MaskingNumber, MaskingRoute, MaskingRule, MaskingSession, ResolutionLog
from otp.models import OtpChallenge

logger = logging.getLogger(__name__)

#: What replaces the number inside a longer text that is kept.
ERASED = "[erased]"
DELETED, ANONYMISED = "deleted", "anonymised"
#: Apps whose tables are swept for any remaining mention of the number (plus the admin history).
SWEPT_APPS = ("agents", "calls", "masking", "otp", "core")
#: Never rewritten: our own masking numbers are not personal data, and tombstones hold no number.
NOT_SWEPT = (MaskingNumber, ErasedNumber)
#: Keys of a stored Smartflo event (lower case, without Smartflo's `$`, as ingest stores them) that
#: name the call's customer: an event naming the number there is about the person's own call.
#: Any other mention (`answered_agent_number`, `agent_number`, ...) is an agent's own number in
#: someone else's call: that event is kept, the number blanked.
CUSTOMER_EVENT_KEYS = frozenset({"caller_id_number", "call_to_number", "customer_number", "client_number"})


class ErasureRefused(ApplicationError):
    """The number is one of ours (a masking number or the masking fallback): not a person's."""

    code = "erasure_refused"


@dataclass(frozen=True)
class ErasureLine:
    table: str
    action: str  # "deleted" or "anonymised"
    count: int


@dataclass
class ErasureReport:
    """What an erasure did (or, for a dry run, would do): rows per table and action."""

    masked_number: str
    dry_run: bool
    lines: list[ErasureLine]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.count for line in self.lines)


class NumberPattern:
    """One phone number and the ways it can appear in stored text."""

    def __init__(self, e164: str) -> None:
        parsed = phonenumbers.parse(e164)
        self.e164 = e164
        self.national = str(parsed.national_number)
        country = str(parsed.country_code)
        groupings = [self.national]
        if country == "91" and len(self.national) == 10:  # 98765 43210, 987-654-3210
            n = self.national
            groupings += [f"{n[:5]}{sep}{n[5:]}" for sep in " -"]
            groupings += [f"{n[:3]}{sep}{n[3:6]}{sep}{n[6:]}" for sep in " -"]
        #: Literal substrings the database looks for (every stored form contains one of them).
        self.forms = tuple(groupings)
        body = "|".join(re.escape(g) for g in groupings)
        prefix = rf"(?:(?:\+|%2[bB]|00)?{country}[ \-]?|0)?"
        # Standing alone: not glued to letters or digits (ids, hashes), nor followed by a dot and
        # digits (Smartflo call ids are "<epoch>.<digits>").
        self.regex = re.compile(rf"(?<![0-9A-Za-z]){prefix}(?:{body})(?![0-9A-Za-z]|\.\d)")

    def names_customer_in(self, payload: Any) -> bool:
        """Whether a stored Smartflo event names the number as its call's customer."""
        if not isinstance(payload, dict):
            return False
        return any(
            str(key).strip().lower().lstrip("$") in CUSTOMER_EVENT_KEYS and self.mentioned_in(value)
            for key, value in payload.items()
        )

    def mentioned_in(self, value: Any) -> bool:
        if isinstance(value, str):
            return bool(self.regex.search(value))
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, int | float):
            return bool(self.regex.search(str(value)))
        if isinstance(value, dict):
            return any(self.mentioned_in(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(self.mentioned_in(v) for v in value)
        return False

    def scrubbed(self, value: Any) -> Any:
        """The value without the number: a value that is just the number becomes empty; a
        longer text keeps its words around `[erased]`; JSON is scrubbed value by value."""
        if isinstance(value, str):
            if not self.regex.search(value):
                return value
            if self.regex.fullmatch(value.strip()):
                return ""
            return self.regex.sub(ERASED, value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return "" if self.regex.search(str(value)) else value
        if isinstance(value, dict):
            return {k: self.scrubbed(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrubbed(v) for v in value]
        return value


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    """Columns that can hold a number as text: char, text and JSON; not keys, ids or choices."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not (f.primary_key or f.unique or f.choices)
    ]


def _mentions(model: type[models.Model], pattern: NumberPattern, fields: Iterable[models.Field]) -> list[Any]:
    """Rows of `model` whose `fields` mention the number: found in the database by substring,
    confirmed in Python. Returns the instances (only the pk and those fields loaded)."""
    fields = list(fields)
    if not fields:
        return []
    queryset = model._default_manager.all()
    condition = Q()
    for f in fields:
        lookup = f.attname
        if isinstance(f, models.JSONField):
            lookup = f"_erasure_{f.attname}"
            queryset = queryset.annotate(**{lookup: Cast(f.attname, TextField())})
        for form in pattern.forms:
            condition |= Q(**{f"{lookup}__contains": form})
    candidates = queryset.filter(condition).only("pk", *(f.attname for f in fields))
    return [row for row in candidates if any(pattern.mentioned_in(getattr(row, f.attname)) for f in fields)]


class _Erasure:
    """One run: collects what to delete, deletes it, then anonymises what is left."""

    def __init__(self, pattern: NumberPattern) -> None:
        self.pattern = pattern
        self.counts: Counter[tuple[str, str]] = Counter()
        self.deleted_objects: dict[type[models.Model], set[Any]] = {}
        self.notes: list[str] = []

    # --- bookkeeping ---------------------------------------------------------------------

    def _delete(self, queryset: models.QuerySet) -> None:
        """Delete and count per table, cascades included; remember pks for the admin history."""
        pks = set(queryset.values_list("pk", flat=True))
        if not pks:
            return
        self.deleted_objects.setdefault(queryset.model, set()).update(pks)
        _, per_model = queryset.model._default_manager.filter(pk__in=pks).delete()
        for label, count in per_model.items():
            if count:
                self.counts[(apps.get_model(label)._meta.db_table, DELETED)] += count

    def _anonymised(self, model: type[models.Model], count: int) -> None:
        if count:
            self.counts[(model._meta.db_table, ANONYMISED)] += count

    # --- the run -------------------------------------------------------------------------

    def run(self) -> None:
        p = self.pattern
        e164 = p.e164

        # Calls to the person, and every Smartflo call id that concerns them.
        calls = OutboundCall.objects.filter(destination=e164)
        call_pks = set(calls.values_list("pk", flat=True))
        call_ids = set(calls.exclude(call_id=None).values_list("call_id", flat=True))
        identifiers = {str(i) for i in calls.values_list("custom_identifier", flat=True)}
        record_fields = [CallRecord._meta.get_field("client_number")]
        records = {r.pk for r in _mentions(CallRecord, p, record_fields)}
        records |= set(CallRecord.objects.filter(outbound_call__in=call_pks).values_list("pk", flat=True))
        call_ids |= set(CallRecord.objects.filter(pk__in=records).values_list("call_id", flat=True))

        # What hangs off those calls, first (events keep no call once it is gone). An event is the
        # person's when it belongs to one of those calls or names the number as its customer;
        # one that names it elsewhere (an agent's own number) is someone else's call: blanked below.
        event_payload = [CallEvent._meta.get_field("payload")]
        events = {e.pk for e in _mentions(CallEvent, p, event_payload) if p.names_customer_in(e.payload)}
        self._delete(
            CallEvent.objects.filter(
                Q(pk__in=events)
                | Q(outbound_call__in=call_pks)
                | Q(call_id__in=call_ids)
                | Q(custom_identifier__in=identifiers)
            )
        )
        alerts = {a.pk for a in _mentions(RingingAlert, p, [RingingAlert._meta.get_field("caller_number")])}
        self._delete(RingingAlert.objects.filter(Q(pk__in=alerts) | Q(call_id__in=call_ids)))
        answers = {a.pk for a in _mentions(IdempotentRequest, p, [IdempotentRequest._meta.get_field("response_body")])}
        about_calls = Q(pk__in=answers)
        if call_pks:  # a stored answer names its call: {"id": ...} or {"extra": {"call": {"id": ...}}}
            about_calls |= Q(response_body__id__in=call_pks) | Q(response_body__extra__call__id__in=call_pks)
        self._delete(IdempotentRequest.objects.filter(about_calls))
        self._delete(OutboundCall.objects.filter(pk__in=call_pks))
        self._delete(CallRecord.objects.filter(pk__in=records))

        self._delete(OtpChallenge.objects.filter(phone=e164))

        # Masking: a session is backed by its rule (protected), so sessions go first.
        naming = Q(party_a=e164) | Q(party_b=e164)
        rule_pks = set(MaskingRule.objects.filter(naming).values_list("pk", flat=True))
        sessions = MaskingSession.objects.filter(naming | Q(rule__in=rule_pks))
        rule_pks |= set(sessions.values_list("rule_id", flat=True))
        self._delete(sessions)
        self._delete(MaskingRule.objects.filter(pk__in=rule_pks))
        self._delete(MaskingRoute.objects.filter(Q(caller=e164) | Q(callee=e164)))
        log_fields = [ResolutionLog._meta.get_field(name) for name in ("caller", "dialled_number", "answer")]
        self._delete(ResolutionLog.objects.filter(pk__in=[r.pk for r in _mentions(ResolutionLog, p, log_fields)]))

        # An agent's own phone: the agent stays (calls and records point at it), without it.
        agents = list(Agent.objects.filter(follow_me_number=e164).values_list("pk", "name"))
        if agents:
            Agent.objects.filter(pk__in=[pk for pk, _ in agents]).update(
                follow_me_number=None, is_active=False, updated_at=timezone.now()
            )
            self._anonymised(Agent, len(agents))
            names = ", ".join(name for _, name in agents)
            self.notes.append(
                f"Agent(s) {names} had this number as follow-me number: blanked and deactivated. The agent "
                "sync restores an agent still listed in Smartflo: remove the agent there."
            )

        self._erase_admin_history()
        self._sweep()

    def _erase_admin_history(self) -> None:
        """Admin history naming the number, or about an object deleted above."""
        about_deleted = Q(pk__in=[])
        for model, pks in self.deleted_objects.items():
            content_type = ContentType.objects.get_for_model(model)
            about_deleted |= Q(content_type=content_type, object_id__in=[str(pk) for pk in pks])
        fields = [LogEntry._meta.get_field(name) for name in ("object_repr", "change_message")]
        naming = [e.pk for e in _mentions(LogEntry, self.pattern, fields)]
        self._delete(LogEntry.objects.filter(Q(pk__in=naming) | about_deleted))

    def _sweep(self) -> None:
        """Any other mention, in any text or JSON column of the project's tables: blanked."""
        for app_label in SWEPT_APPS:
            for model in apps.get_app_config(app_label).get_models():
                if model in NOT_SWEPT or not model._meta.managed:
                    continue
                fields = _text_fields(model)
                changed = 0
                for row in _mentions(model, self.pattern, fields):
                    updates = {}
                    for f in fields:
                        value = getattr(row, f.attname)
                        if self.pattern.mentioned_in(value):
                            new = self.pattern.scrubbed(value)
                            blank_to_null = new == "" and f.null and not isinstance(f, models.JSONField)
                            updates[f.attname] = None if blank_to_null else new
                    if model is CallEvent and "payload" in updates:
                        updates["fingerprint"] = _erased_event_fingerprint(row.pk, updates["payload"])
                    if updates:
                        model._default_manager.filter(pk=row.pk).update(**updates)
                        changed += 1
                self._anonymised(model, changed)

    def lines(self) -> list[ErasureLine]:
        return [ErasureLine(table, action, count) for (table, action), count in sorted(self.counts.items())]


def _erased_event_fingerprint(pk: int, payload: Any) -> str:
    """A kept event's new fingerprint. The one it had is an unkeyed SHA-256 of the payload as
    received: next to the blanked payload, trying every number would give the number back. Unique
    per row, so two events that differed only by the number cannot collide under the
    one-original-per-fingerprint constraint. (A late redelivery of such an event is then stored
    as a new one; a late event never moves a call backwards.)"""
    text = f"erased event {pk}: " + json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse_our_own_numbers(e164: str) -> None:
    if MaskingNumber.objects.filter(number=e164).exists():
        raise ErasureRefused("This is one of our masking numbers, not a person's number.")
    fallback = getattr(settings, "MASKING_FALLBACK_NUMBER", "")
    try:
        is_fallback = bool(fallback) and to_e164(fallback, strict=False) == e164
    except InvalidPhoneNumber:  # an unusable setting routes nobody: nothing to protect
        is_fallback = False
    if is_fallback:
        raise ErasureRefused("This is MASKING_FALLBACK_NUMBER, not a person's number.")


def _tombstone(e164: str) -> None:
    """Remember the erasure by a keyed hash (never the number); a repeat moves the date.

    A repeat also re-hashes, with the current key, a tombstone made under an older one (a
    SECRET_KEY-derived key, before ERASURE_HASH_KEY was set): the only moment the number is known.
    """
    now = timezone.now()
    digests = [number_hash(e164, key=key) for key in erasure_hash_keys()]
    current = digests[0]
    older = list(ErasedNumber.objects.filter(number_hash__in=digests[1:]).exclude(number_hash=current))
    erasures = 1 + sum(t.erasures for t in older)
    if older:
        ErasedNumber.objects.filter(pk__in=[t.pk for t in older]).delete()
    updated = ErasedNumber.objects.filter(number_hash=current).update(erased_at=now, erasures=F("erasures") + erasures)
    if not updated:
        ErasedNumber.objects.create(number_hash=current, erased_at=now, erasures=erasures)


def personal_data_erase(*, phone: str, dry_run: bool = False) -> ErasureReport:
    """Delete or anonymise every row holding `phone` (any form `to_e164` accepts).

    One transaction: all or nothing. A dry run does exactly the same work and rolls it back,
    so its counts are the real run's. Running it again finds nothing more (idempotent).
    Raises InvalidPhoneNumber for something that is not a number, ErasureRefused for ours.
    """
    e164 = to_e164(phone, strict=False)  # any number we may hold, even one that cannot exist
    _refuse_our_own_numbers(e164)
    erasure = _Erasure(NumberPattern(e164))
    with transaction.atomic():
        # The call-record sync renews its lease (this row) in each page's transaction, then checks
        # the erased numbers: holding the row, an erasure never interleaves with a page's upsert.
        list(CallRecordSyncState.objects.select_for_update().values_list("pk", flat=True))
        erasure.run()
        if dry_run:
            transaction.set_rollback(True)
        else:
            _tombstone(e164)
    report = ErasureReport(masked_number=mask(e164), dry_run=dry_run, lines=erasure.lines(), notes=erasure.notes)
    if not dry_run:
        logger.info(
            "personal data of %s erased: %s",
            report.masked_number,
            ", ".join(f"{line.table} {line.count} {line.action}" for line in report.lines) or "nothing held",
        )
    return report
