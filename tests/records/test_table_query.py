"""The dashboard table's query (`call_record_table`) against the same filters, sort and page
worked out in plain Python over every record: the same rows in the same order, the same capped
count, for any combination of filters (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import operator
import random
import re
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import CallRecord
from calls.records_selectors import (
    DURATION_OPERATORS,
    NO_AGENT,
    SORTS,
    RecordFilters,
    RecordScope,
    call_record_table,
)
from contactcenter.phones import InvalidPhoneNumber, to_e164
from contactcenter.smartflo import IST
from tests.records.conftest import make_record

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 0, 0, tzinfo=IST)
PAGE, CAP = 7, 20


@pytest.fixture
def spread(asha, vikram, settings):
    """60 records over 10 days, hours, agents (and none), directions, statuses, durations and
    numbers, with ties in start time and duration so the id decides the order."""
    settings.CDR_DASHBOARD_PAGE_SIZE, settings.CDR_DASHBOARD_COUNT_CAP = PAGE, CAP
    pick = random.Random(7)
    for n in range(60):
        duration = pick.choice([0, 5, 30, 30, 61, 600, 3600])
        make_record(
            agent=pick.choice([asha, vikram, None]),
            started_at=START + timedelta(days=pick.randrange(10), hours=pick.randrange(24), minutes=n % 3),
            direction=pick.choice(["inbound", "outbound", ""]),
            status=pick.choice(["answered", "missed", ""]),
            call_duration=duration,
            answered_seconds=pick.choice([0, duration]),
            client_number=pick.choice(["+919812300001", "+919812345678", "+914422334455", ""]),
            recording_url=pick.choice(["", "http://127.0.0.1:1/r.mp3"]),
        )
    return {"asha": asha.pk, "vikram": vikram.pk}


def filters_from(agents: dict[str, int]):
    day = st.integers(0, 11).map(lambda d: START + timedelta(days=d))
    return st.builds(
        RecordFilters,
        start=st.none() | day,
        end=st.none() | day.map(lambda d: d + timedelta(hours=23, minutes=59)),
        agent=st.none() | st.sampled_from([*agents.values(), NO_AGENT]),
        direction=st.sampled_from(["", "inbound", "outbound"]),
        status=st.sampled_from(["", "answered", "missed"]),
        duration_op=st.sampled_from(["", *DURATION_OPERATORS]),
        duration=st.none() | st.sampled_from([0, 30, 61, 600]),
        number=st.sampled_from(["", "+919812300001", "98123", "4455", "0000", "9812 345 678", "%", "_"]),
        hour=st.none() | st.integers(0, 23),
    )


def matches(record: CallRecord, scope: RecordScope, f: RecordFilters) -> bool:
    """The filters' meaning, in plain Python over one record (docs/call-records.md)."""
    if not scope.supervisor and (scope.agent_id is None or record.agent_id != scope.agent_id):
        return False
    duration_ok = {
        ">": operator.gt,
        ">=": operator.ge,
        "<": operator.lt,
        "<=": operator.le,
        "=": operator.eq,
        "!=": operator.ne,
    }.get(f.duration_op, lambda *_: True)
    if f.number:
        try:
            number_ok = record.client_number == to_e164(f.number, strict=False)
        except InvalidPhoneNumber:
            digits = re.sub(r"\D", "", f.number)
            number_ok = (digits or f.number.strip()) in record.client_number
    return (
        (f.start is None or record.started_at >= f.start)
        and (f.end is None or record.started_at <= f.end)
        and (f.agent is None or record.agent_id == (None if f.agent == NO_AGENT else f.agent))
        and f.direction in ("", record.direction)
        and f.status in ("", record.status)
        and (f.duration is None or duration_ok(record.call_duration, f.duration))
        and (not f.number or number_ok)
        and (f.hour is None or record.started_at.astimezone(IST).hour == f.hour)
    )  # fmt: skip


def expected(scope: RecordScope, filters: RecordFilters, sort: str, page: int) -> tuple[list[str], int]:
    """The call ids of the page and the count, worked out in Python from every record."""
    found = [r for r in CallRecord.objects.all() if matches(r, scope, filters)]
    column = SORTS[sort.lstrip("-")][0]
    found.sort(key=lambda r: (getattr(r, column), r.pk), reverse=sort.startswith("-"))
    pages = max(1, -(-min(len(found), CAP) // PAGE))
    start = (min(page, pages) - 1) * PAGE
    return [r.call_id for r in found[start : start + PAGE]], len(found)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_table_is_the_orm_query_for_any_filters_sort_and_page(spread, data):
    filters = data.draw(filters_from(spread))
    sort = data.draw(st.sampled_from([*SORTS, *(f"-{key}" for key in SORTS)]))
    page = data.draw(st.integers(1, 4))
    scope = data.draw(
        st.sampled_from(
            [RecordScope(supervisor=True), RecordScope(supervisor=False, agent_id=spread["asha"]), RecordScope(False)]
        )
    )

    table = call_record_table(scope=scope, filters=filters, sort=sort, page=page)

    ids, total = expected(scope, filters, sort, page)
    assert [row.call_id for row in table.rows] == ids
    assert (table.count, table.capped) == (min(total, CAP), total > CAP)
    stored = {r.call_id: r for r in CallRecord.objects.filter(call_id__in=ids)}
    for row in table.rows:
        record = stored[row.call_id]
        assert row.started == record.started_at and row.started.tzinfo == IST  # shown in the display zone
        assert row.has_recording is (record.recording_url != "")
        assert (row.status, row.client_number, row.agent_name) == (
            record.status,
            record.client_number,
            record.agent_name,
        )
