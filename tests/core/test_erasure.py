"""`manage.py erase_personal_data`: one person's number leaves every table, in one go, for good."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, connections, models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from agents.models import Agent
from calls.models import (
    CallEvent,
    CallRecord,
    CallStatus,
    IdempotentRequest,
    OutboundCall,
    ProviderRequest,
    RingingAlert,
)
from calls.services import call_records_sync
from calls.services.events import call_event_ingest
from contactcenter.core.models import ErasedNumber
from contactcenter.core.selectors import erased_number_lookup, erasure_hash_keys, number_hash
from contactcenter.core.services import personal_data_erase
from contactcenter.smartflo import format_ist
from masking.models import MaskingRoute, MaskingRule, MaskingSession, ResolutionLog
from masking.services import masking_number_create, masking_rule_create
from masking.services.sessions import masking_session_create
from otp.codes import hash_code
from otp.models import OtpChallenge, OtpProviderRequest, OtpState
from tests.needs import skip_or_fail
from tests.records.conftest import hours_ago, make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdr_sync(settings, smartflo):
    """The call-record sync pointed at the sandbox, one request per day of records."""
    settings.CDR_SYNC_PAGE_SIZE = 100
    settings.CDR_SYNC_WINDOW_SECONDS = 86400
    return smartflo


PERSON = "+919845011111"
DIGITS = "9845011111"
FORMS = (DIGITS, "98450 11111", "98450-11111", "984-501-1111")
OTHER = "+919845022222"
THIRD = "+919845033333"
MASKING = "+918069000111"
POOL = "+918069000999"
ANSWERED_BY_ASHA = "1716000004.000004"


def mentions_of_the_person() -> dict[str, int]:
    """Rows, per table, with the number in any text or JSON column, anywhere in the database."""
    found = {}
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        queryset = model._default_manager.all()
        condition = Q()
        for f in fields:
            name = f.attname
            if isinstance(f, models.JSONField):
                name = f"_text_{f.attname}"
                queryset = queryset.annotate(**{name: Cast(f.attname, TextField())})
            for form in FORMS:
                condition |= Q(**{f"{name}__contains": form})
        count = queryset.filter(condition).count()
        if count:
            found[model._meta.db_table] = count
    return found


def row_counts() -> dict[str, int]:
    return {m._meta.db_table: m._default_manager.count() for m in apps.get_models() if m._meta.managed}


@pytest.fixture
def seeded(make_user):
    """The person's data across the project, beside other people's that must survive."""
    agent_user = make_user("asha", role="agent")
    asha = Agent.objects.create(name="Asha Rao", follow_me_number="+919800000001", intercom="1001", user=agent_user)

    # Calls: one to the person (with its provider request, events and stored answer), one to
    # someone else whose note mentions the person, one to someone else only.
    theirs = OutboundCall.objects.create(
        requested_by=agent_user,
        agent=asha,
        destination=PERSON,
        call_id="1716000001.000001",
        status=CallStatus.COMPLETED,
        note="Wants a refund",
    )
    ProviderRequest.objects.create(
        outbound_call=theirs, operation="click_to_call", method="POST", path="/click_to_call"
    )
    mentioning = OutboundCall.objects.create(
        requested_by=agent_user,
        agent=asha,
        destination=OTHER,
        call_id="1716000002.000002",
        status=CallStatus.COMPLETED,
        note="Her husband asked us to call 98450 11111 instead",
    )
    unrelated_call = OutboundCall.objects.create(
        requested_by=agent_user, agent=asha, destination=THIRD, call_id="1716000003.000003"
    )
    CallEvent.objects.create(
        outbound_call=theirs, call_id=theirs.call_id, fingerprint="f1", payload={"call_id": theirs.call_id}
    )
    CallEvent.objects.create(call_id="1716000009.000009", fingerprint="f2", payload={"caller_id_number": "09845011111"})
    CallEvent.objects.create(call_id=unrelated_call.call_id, fingerprint="f3", payload={"caller_id_number": THIRD})
    # Another customer's call that Asha answered: Smartflo names her own number in the event.
    call_event_ingest(
        payload={
            "$call_id": ANSWERED_BY_ASHA,
            "$event": "customer_answered",
            "$direction": "inbound",
            "$caller_id_number": THIRD,
            "$answered_agent_number": asha.follow_me_number,
        }
    )
    RingingAlert.objects.create(agent=asha, call_id="1716000009.000009", caller_number=DIGITS)
    RingingAlert.objects.create(agent=asha, call_id="1716000008.000008", caller_number=THIRD)
    IdempotentRequest.objects.create(
        user=agent_user, key="k1", request_hash="h1", status_code=201, response_body={"id": 0, "destination": PERSON}
    )
    IdempotentRequest.objects.create(
        user=agent_user,
        key="k2",
        request_hash="h2",
        status_code=504,
        response_body={"code": "provider_unknown_outcome", "message": "?", "extra": {"call": {"id": theirs.pk}}},
    )
    IdempotentRequest.objects.create(
        user=agent_user, key="k3", request_hash="h3", status_code=201, response_body={"id": unrelated_call.pk}
    )

    # Call records: the person's (two forms of the number), a record that mentions them in its
    # raw payload and notes, and an unrelated one.
    make_record(client_number=PERSON, raw={"client_number": PERSON, "notes": "angry"})
    make_record(client_number="09845011111", raw={"client_number": "09845011111"})  # did not parse
    make_record(
        client_number=OTHER,
        notes=f"Transferred to {DIGITS}",
        raw={"client_number": OTHER, "missed_agents": [{"name": "x", "number": PERSON}]},
    )
    make_record(client_number=THIRD, raw={"client_number": THIRD})

    # OTP.
    now = timezone.now()
    for phone in (PERSON, OTHER):
        challenge = OtpChallenge.objects.create(
            phone=phone, state=OtpState.DELIVERED, code_hash="0" * 64, expires_at=now + timedelta(minutes=5)
        )
        challenge.code_hash = hash_code(challenge.pk, "123456")
        challenge.save(update_fields=["code_hash"])
        OtpProviderRequest.objects.create(
            challenge=challenge,
            step="lead",
            operation="broadcast_lead",
            method="POST",
            path="/x",
            attempt=1,
            duration_ms=1.0,
            outcome="ok",
        )

    # Masking: a rule and a session naming the person, a rule between two others.
    masking_number_create(number=MASKING)
    masking_number_create(number=POOL, pooled=True)
    rule = masking_rule_create(masking_number=MASKING, party_a=PERSON, party_b=OTHER, two_way=True)
    masking_rule_create(masking_number=MASKING, party_a=THIRD, party_b="+919845044444")
    masking_session_create(party_a=PERSON, party_b=THIRD, ttl_seconds=600)
    for caller, answer in ((PERSON, OTHER[3:]), (OTHER, DIGITS), (THIRD, "9845044444")):
        ResolutionLog.objects.create(
            created_at=now,
            method="POST",
            caller=caller,
            dialled_number=MASKING,
            outcome="matched",
            answer=answer,
            status_code=200,
            latency_ms=1.0,
        )

    # Admin history naming the person's rule, and an unrelated entry.
    admin_user = make_user("admin", role="superuser")
    rule_type = ContentType.objects.get_for_model(MaskingRule)
    LogEntry.objects.log_actions(admin_user.pk, [rule], CHANGE, change_message="edited")
    LogEntry.objects.create(
        user=admin_user, content_type=rule_type, object_id="999", object_repr="#999 other", action_flag=CHANGE
    )
    return {"theirs": theirs, "mentioning": mentioning, "unrelated_call": unrelated_call, "asha": asha}


def erase(*args: str) -> str:
    out = StringIO()
    call_command("erase_personal_data", *args, stdout=out)
    return out.getvalue()


def test_the_seed_holds_the_person_in_every_kind_of_table(seeded):
    assert set(mentions_of_the_person()) >= {
        "calls_outboundcall",
        "calls_callevent",
        "calls_ringingalert",
        "calls_idempotentrequest",
        "calls_callrecord",
        "otp_otpchallenge",
        "masking_maskingrule",
        "masking_maskingroute",
        "masking_maskingsession",
        "masking_resolutionlog",
        "django_admin_log",
    }


def test_a_dry_run_changes_nothing_and_reports_counts_per_table(seeded):
    before_rows, before_mentions = row_counts(), mentions_of_the_person()

    output = erase("--phone", "098450-11111", "--dry-run")

    assert row_counts() == before_rows
    assert mentions_of_the_person() == before_mentions
    assert not ErasedNumber.objects.exists()
    lines = set(output.splitlines())
    assert "calls_outboundcall: 1 would be deleted" in lines
    assert "calls_outboundcall: 1 would be anonymised" in lines  # the note of the other call
    assert "calls_callrecord: 2 would be deleted" in lines
    assert "calls_callrecord: 1 would be anonymised" in lines
    assert "calls_callevent: 2 would be deleted" in lines
    assert "calls_ringingalert: 1 would be deleted" in lines
    assert "calls_idempotentrequest: 2 would be deleted" in lines
    assert "calls_providerrequest: 1 would be deleted" in lines
    assert "otp_otpchallenge: 1 would be deleted" in lines
    assert "otp_otpproviderrequest: 1 would be deleted" in lines
    assert "masking_maskingsession: 1 would be deleted" in lines
    assert "masking_maskingrule: 2 would be deleted" in lines
    assert "masking_resolutionlog: 2 would be deleted" in lines
    assert "django_admin_log: 1 would be deleted" in lines
    assert "+91******1111" in output and DIGITS not in output
    assert "nothing changed" in output


def test_the_erasure_removes_the_number_everywhere_and_keeps_everyone_else(seeded):
    erase("--phone", "+91 98450 11111")

    assert mentions_of_the_person() == {}
    # The person's own rows are gone...
    assert not OutboundCall.objects.filter(destination=PERSON).exists()
    assert not OtpChallenge.objects.filter(phone=PERSON).exists()
    assert not MaskingRoute.objects.filter(Q(caller=PERSON) | Q(callee=PERSON)).exists()
    assert not MaskingSession.objects.exists()
    # ...rows that also concern others stay, without the number...
    mentioning = OutboundCall.objects.get(pk=seeded["mentioning"].pk)
    assert mentioning.note == "Her husband asked us to call [erased] instead"
    kept = CallRecord.objects.get(client_number=OTHER)
    assert kept.notes == "Transferred to [erased]" and kept.raw["missed_agents"] == [{"name": "x", "number": ""}]
    # ...and nobody else's data is touched.
    assert OutboundCall.objects.filter(pk=seeded["unrelated_call"].pk).exists()
    assert CallRecord.objects.filter(client_number=THIRD).exists()
    assert OtpChallenge.objects.filter(phone=OTHER).exists()
    assert IdempotentRequest.objects.filter(key="k3").exists()
    assert CallEvent.objects.filter(fingerprint="f3").exists()
    assert RingingAlert.objects.filter(caller_number=THIRD).exists()
    assert MaskingRule.objects.filter(party_a=THIRD).exists()
    assert ResolutionLog.objects.filter(caller=THIRD).exists()
    assert LogEntry.objects.filter(object_id="999").exists()
    # The tombstone is a keyed hash, never the number.
    (tombstone,) = ErasedNumber.objects.all()
    assert tombstone.number_hash == number_hash(PERSON) and DIGITS not in tombstone.number_hash


def test_running_it_again_finds_nothing_more(seeded):
    erase("--phone", PERSON)
    rows = row_counts()

    output = erase("--phone", DIGITS)

    assert "Nothing held" in output
    assert personal_data_erase(phone=PERSON).total == 0
    assert row_counts() == rows
    assert ErasedNumber.objects.get().erasures == 3


def test_an_agents_own_number_is_blanked_and_the_agent_deactivated(seeded):
    asha = seeded["asha"]
    output = erase("--phone", asha.follow_me_number)

    asha.refresh_from_db()
    assert asha.follow_me_number is None and not asha.is_active
    assert "agents_agent: 1 anonymised" in output
    assert "remove the agent there" in output
    assert OutboundCall.objects.filter(agent=asha).count() == 3  # the calls stay


def test_an_agents_own_number_is_blanked_in_other_customers_call_events_not_deleted(seeded):
    asha = seeded["asha"]
    answered = CallEvent.objects.get(call_id=ANSWERED_BY_ASHA)
    assert answered.payload["answered_agent_number"] == asha.follow_me_number
    events = CallEvent.objects.count()

    output = erase("--phone", asha.follow_me_number)

    assert CallEvent.objects.count() == events  # no customer's event is lost
    kept = CallEvent.objects.get(pk=answered.pk)
    assert kept.payload["answered_agent_number"] == ""
    assert kept.payload["caller_id_number"] == THIRD and kept.payload["event"] == "customer_answered"
    # The old fingerprint was an unkeyed hash of the payload with the number in it.
    assert kept.fingerprint != answered.fingerprint
    assert "calls_callevent: 1 anonymised" in output.splitlines()
    assert "calls_callevent" not in output.replace("calls_callevent: 1 anonymised", "")


def test_our_own_numbers_and_non_numbers_are_refused(seeded, settings):
    with pytest.raises(CommandError, match="masking numbers"):
        erase("--phone", MASKING)
    settings.MASKING_FALLBACK_NUMBER = "9000000009"
    with pytest.raises(CommandError, match="MASKING_FALLBACK_NUMBER"):
        erase("--phone", "+919000000009")
    with pytest.raises(CommandError, match="Not a phone number"):
        erase("--phone", "hello")
    assert not ErasedNumber.objects.exists()


def test_everything_or_nothing(seeded, monkeypatch):
    from contactcenter.core.services import erasure

    rows, mentions = row_counts(), mentions_of_the_person()

    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure._Erasure, "_erase_admin_history", broken)
    with pytest.raises(RuntimeError):
        erase("--phone", PERSON)
    assert row_counts() == rows and mentions_of_the_person() == mentions


# --- the call-record sync does not bring it back ---------------------------------------------


def test_a_later_sync_does_not_reimport_the_erased_numbers_records(cdr_sync, sandbox):
    start = hours_ago(2)
    sandbox.insert_records(
        [
            {"client_number": DIGITS, "start": format_ist(start + timedelta(minutes=5))},
            {"client_number": OTHER[3:], "start": format_ist(start + timedelta(minutes=6))},
        ]
    )
    call_records_sync(start=start, trigger="manual")
    assert CallRecord.objects.filter(client_number=PERSON).count() == 1

    erase("--phone", PERSON)
    assert not CallRecord.objects.filter(client_number=PERSON).exists()

    run = call_records_sync(start=start, trigger="manual")  # a backfill over the same dates

    assert run.status == "succeeded"
    assert not CallRecord.objects.filter(client_number=PERSON).exists()
    assert CallRecord.objects.filter(client_number=OTHER).count() == 1
    assert mentions_of_the_person() == {}


def test_an_erasure_during_a_sync_run_is_honoured_by_the_pages_still_to_come(cdr_sync, sandbox, settings):
    settings.CDR_SYNC_PAGE_SIZE = 2  # one record of the person on the first page, one on a later one
    start = hours_ago(2)
    sandbox.insert_records(
        [
            {"client_number": client, "start": format_ist(start + timedelta(minutes=minute))}
            for minute, client in ((5, DIGITS), (6, OTHER[3:]), (7, THIRD[3:]), (8, DIGITS))
        ]
    )
    pages = []

    def erase_after_the_first_page(progress) -> None:
        pages.append(progress.page_stored)
        if len(pages) == 1:
            assert CallRecord.objects.filter(client_number=PERSON).count() == 1
            personal_data_erase(phone=PERSON)  # the request arrives while the run goes on

    run = call_records_sync(start=start, trigger="manual", on_progress=erase_after_the_first_page)

    assert run.status == "succeeded" and len(pages) > 1
    assert not CallRecord.objects.filter(client_number=PERSON).exists()
    assert set(CallRecord.objects.values_list("client_number", flat=True)) == {OTHER, THIRD}


@pytest.mark.django_db(transaction=True)
def test_an_erasure_waits_for_a_page_being_stored_then_deletes_its_record(cdr_sync, sandbox, monkeypatch):
    """The page checked the erased numbers before the erasure; its upsert must not win. The
    erasure locks the sync's lease row, which the page holds until it commits."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (row locks): set DATABASE_URL=postgres://...")
    from calls.services import records

    sandbox.insert_records([{"client_number": DIGITS, "start": format_ist(hours_ago(1))}])
    at_upsert, erased = threading.Event(), threading.Event()
    upsert = records._upsert

    def upsert_once_the_erasure_ran(rows):
        at_upsert.set()
        erased.wait(timeout=1)  # without the lock the erasure commits meanwhile; with it, it waits
        upsert(rows)

    monkeypatch.setattr(records, "_upsert", upsert_once_the_erasure_ran)
    errors = []

    def in_thread(work):
        def target():
            try:
                work()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        return threading.Thread(target=target)

    sync = in_thread(lambda: call_records_sync(start=hours_ago(2), trigger="manual"))
    erasure = in_thread(lambda: (personal_data_erase(phone=PERSON), erased.set()))
    sync.start()
    assert at_upsert.wait(timeout=10)
    erasure.start()
    for thread in (sync, erasure):
        thread.join(timeout=30)

    assert not errors, errors
    assert not CallRecord.objects.filter(client_number=PERSON).exists()


def test_a_call_made_after_the_erasure_is_synced_as_new_data(cdr_sync, sandbox):
    erase("--phone", PERSON)
    ErasedNumber.objects.update(erased_at=hours_ago(1))  # erased an hour ago
    sandbox.insert_records([{"client_number": DIGITS, "start": format_ist(hours_ago(0.5))}])

    call_records_sync(start=hours_ago(2), trigger="manual")

    assert CallRecord.objects.filter(client_number=PERSON).count() == 1


def test_tombstones_made_under_the_old_secret_key_still_count_with_it_as_fallback(settings):
    settings.ERASURE_HASH_KEY = ""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-" + "k" * 50, []
    personal_data_erase(phone=PERSON)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-" + "k" * 50, ["old-" + "k" * 50]
    assert erased_number_lookup()(PERSON) is not None
    assert erased_number_lookup()(OTHER) is None

    settings.SECRET_KEY_FALLBACKS = []
    assert erased_number_lookup()(PERSON) is None  # why ERASURE_HASH_KEY should be set


def test_setting_erasure_hash_key_later_keeps_the_earlier_tombstones(settings):
    settings.ERASURE_HASH_KEY = ""
    personal_data_erase(phone=PERSON)  # under the key derived from SECRET_KEY
    derived = ErasedNumber.objects.get().number_hash

    settings.ERASURE_HASH_KEY = "e" * 50
    assert erased_number_lookup()(PERSON) is not None
    assert erased_number_lookup()(OTHER) is None
    personal_data_erase(phone=OTHER)  # a new erasure uses the configured key
    assert ErasedNumber.objects.filter(number_hash=number_hash(OTHER, key=b"e" * 50)).exists()
    assert number_hash(OTHER) == number_hash(OTHER, key=b"e" * 50)

    # Erasing the earlier number again re-hashes its tombstone with the configured key.
    personal_data_erase(phone=PERSON)
    tombstone = ErasedNumber.objects.get(number_hash=number_hash(PERSON, key=b"e" * 50))
    assert tombstone.erasures == 2
    assert not ErasedNumber.objects.filter(number_hash=derived).exists()
    assert erasure_hash_keys()[0] == b"e" * 50


def test_no_erasure_means_no_check_at_all():
    assert erased_number_lookup() is None
