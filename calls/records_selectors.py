"""Reads for call records: who sees what, filters, the dashboard table, charts, CSV rows, sync status.

Built for a table of millions of rows: every list query is "newest first" (or by an indexed
duration) with a LIMIT, counts stop at CDR_DASHBOARD_COUNT_CAP instead of counting the whole
table, and the CSV export streams through a server-side cursor.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, router
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.http import Http404
from django.utils import timezone

from agents.models import Agent
from calls.models import (
    CallDirection,
    CallRecord,
    CallRecordStatus,
    CallRecordSyncRun,
    CallRecordSyncRunStatus,
    Disposition,
    RingingAlert,
    minutes_seconds,
)
from calls.selectors import agent_for_user
from calls.services.outcomes import OUTCOMES_VERSION_KEY
from contactcenter.core.compiled import CompiledQuery
from contactcenter.core.roles import is_supervisor
from contactcenter.phones import InvalidPhoneNumber, to_e164

DURATION_OPERATORS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "exact", "!=": "exact"}
SORTS = {
    "started": ("started_at", "id"),
    "duration": ("call_duration", "id"),
    "talk": ("answered_seconds", "id"),
}
DEFAULT_SORT = "-started"
NO_AGENT = "none"
NO_OUTCOME = "none"
CHARTS_CACHE_SECONDS = 60
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"^\+\d{8,15}$")


# --- Filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFilters:
    """The filters a dashboard, export or API request applies (all optional).

    `start`/`end` are inclusive aware datetimes; `agent` is a local Agent id or NO_AGENT;
    `duration_op` is one of DURATION_OPERATORS, applied to `call_duration` in seconds; `number`
    matches the customer's number exactly when it parses as one, else as a digit substring;
    `hour` is the hour of day (0-23) in the display time zone; `outcome` is a Disposition id or
    NO_OUTCOME (calls no agent noted an outcome for).
    """

    start: datetime | None = None
    end: datetime | None = None
    agent: int | str | None = None
    direction: str = ""
    status: str = ""
    duration_op: str = ""
    duration: int | None = None
    number: str = ""
    hour: int | None = None
    outcome: int | str | None = None

    def cache_key(self) -> str:
        text = repr(tuple(getattr(self, name) for name in self.__dataclass_fields__))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_bound(value: str, *, end: bool = False) -> datetime:
    """A user-typed bound as an aware datetime in the display zone.

    Accepts `YYYY-MM-DD` (the whole day: its start, or its last instant when `end`),
    `YYYY-MM-DD HH:MM[:SS]` and ISO 8601 with or without an offset. ValueError otherwise.
    """
    text = value.strip().replace("T", " ")
    if not text:
        raise ValueError("empty")
    zone = timezone.get_current_timezone()
    if len(text) == 10:
        day = date.fromisoformat(text)
        parsed = timezone.make_aware(datetime.combine(day, time.max if end else time.min), zone)
    else:
        parsed = datetime.fromisoformat(text)
        if timezone.is_naive(parsed):
            if end and len(text) == 16:  # "HH:MM" as an end means the whole minute
                parsed = parsed.replace(second=59, microsecond=999999)
            parsed = timezone.make_aware(parsed, zone)
    try:
        parsed.astimezone(UTC)  # what the database compares: year 1 or 9999 may not fit
    except OverflowError:
        raise ValueError("out of range") from None
    return parsed


@dataclass(frozen=True)
class RecordScope:
    """Whose records a user may see, worked out once per request: every record for a
    supervisor, an agent's own records, nothing for anyone else."""

    supervisor: bool
    agent_id: int | None = None

    @classmethod
    def for_user(cls, user) -> RecordScope:
        if is_supervisor(user):
            return cls(supervisor=True)
        agent = agent_for_user(user)
        return cls(supervisor=False, agent_id=agent.pk if agent is not None else None)

    @property
    def key(self) -> str:
        return "all" if self.supervisor else f"agent:{self.agent_id}"


def call_records_visible_to(scope: RecordScope) -> QuerySet[CallRecord]:
    """Supervisors see every record; an agent only the records of their own calls."""
    records = CallRecord.objects.all()
    if scope.supervisor:
        return records
    if scope.agent_id is None:
        return records.none()
    return records.filter(agent_id=scope.agent_id)


def call_records_filter(records: QuerySet[CallRecord], filters: RecordFilters) -> QuerySet[CallRecord]:
    """`records` narrowed by `filters`: one `filter()` of the conditions joined (each filter()
    call copies the query, a cost every dashboard request would pay once per filter)."""
    conditions = []
    if filters.start is not None:
        conditions.append(Q(started_at__gte=filters.start))
    if filters.end is not None:
        conditions.append(Q(started_at__lte=filters.end))
    if filters.agent == NO_AGENT:
        conditions.append(Q(agent__isnull=True))
    elif filters.agent is not None:
        conditions.append(Q(agent_id=filters.agent))
    if filters.direction:
        conditions.append(Q(direction=filters.direction))
    if filters.status:
        conditions.append(Q(status=filters.status))
    if filters.duration is not None and filters.duration_op in DURATION_OPERATORS:
        condition = Q(**{f"call_duration__{DURATION_OPERATORS[filters.duration_op]}": filters.duration})
        conditions.append(~condition if filters.duration_op == "!=" else condition)
    if filters.number:
        conditions.append(_number_condition(filters.number))
    if filters.hour is not None:
        conditions.append(Q(started_at__hour=filters.hour))  # in the current (display) zone
    if filters.outcome == NO_OUTCOME:
        conditions.append(Q(disposition__isnull=True))
    elif filters.outcome is not None:
        conditions.append(Q(disposition_id=filters.outcome))
    return records.filter(*conditions) if conditions else records


def _number_condition(number: str) -> Q:
    whole = _whole_number(number)
    if whole:
        return Q(client_number=whole)
    digits = re.sub(r"\D", "", number)
    return Q(client_number__contains=digits) if digits else Q(client_number__contains=number.strip())


@functools.lru_cache(maxsize=512)
def _whole_number(number: str) -> str:
    """The number in E.164 when it is a whole one, else "" (parsing costs 50 us; a supervisor
    pages and sorts under one number many times)."""
    try:
        return to_e164(number, strict=False)
    except InvalidPhoneNumber:
        return ""


def call_record_get(*, scope: RecordScope, call_id: str) -> CallRecord:
    """One record by Smartflo call id; 404 unless the scope covers it."""
    record = call_records_visible_to(scope).select_related("disposition").filter(call_id=call_id).first()
    if record is None:
        raise Http404("No such call record.")
    return record


def agent_record_counts(*, agent_ids: list[int], since: datetime) -> dict[int, dict[str, int]]:
    """`{agent id: {"answered": n, "missed": n}}` over their synced records since `since` (the
    supervisors' agents page): one grouped query, served by the (agent, status, started_at) index."""
    answered, missed = CallRecordStatus.ANSWERED.value, CallRecordStatus.MISSED.value
    rows = (
        CallRecord.objects.filter(agent_id__in=agent_ids, started_at__gte=since)
        .values("agent_id")
        .annotate(answered=Count("id", filter=Q(status=answered)), missed=Count("id", filter=Q(status=missed)))
        .order_by()
    )
    counts = {pk: {"answered": 0, "missed": 0} for pk in agent_ids}
    for row in rows:
        counts[row["agent_id"]] = {"answered": row["answered"], "missed": row["missed"]}
    return counts


def record_filter_agents(*, scope: RecordScope) -> list[tuple[int, str]]:
    """`(id, name)` of the agents a supervisor can filter by (agents only ever see their own records)."""
    if not scope.supervisor:
        return []
    return _FILTER_AGENTS.rows(using=router.db_for_read(Agent))


_FILTER_AGENTS = CompiledQuery(lambda: Agent.objects.values_list("id", "name"))  # on every dashboard request


def record_outcomes() -> list[tuple[int, str]]:
    """`(id, label)` of every disposition, those no longer offered too (calls noted with them
    are still filtered and counted by them), in the workspace's order."""
    return _OUTCOMES.rows(using=router.db_for_read(Disposition))


_OUTCOMES = CompiledQuery(lambda: Disposition.objects.order_by("position", "label").values_list("id", "label"))


# --- The dashboard table ---------------------------------------------------------------------


class RecordRow(NamedTuple):
    """One row of the dashboard table, ready to display: only the columns the table shows (not
    the tokenised recording URL, only whether there is one), times in the display zone."""

    call_id: str
    started: datetime
    direction: str  # the label; "" when Smartflo sent none
    status: str  # the value (for styling); "" when Smartflo sent none
    status_label: str
    agent_name: str
    did_number: str
    client_number: str
    duration: str  # "m:ss"
    talk_time: str  # "m:ss"
    hangup_cause: str
    has_recording: bool
    outcome: str  # the disposition's label; "" when no agent noted one


_TABLE_COLUMNS = (
    "call_id",
    "started_at",
    "direction",
    "status",
    "agent_name",
    "did_number",
    "client_number",
    "call_duration",
    "answered_seconds",
    "hangup_cause",
    "disposition_id",
)  # then whether there is a recording (never its tokenised URL), then the capped count

_DIRECTION_LABELS = dict(CallDirection.choices)
_STATUS_LABELS = dict(CallRecordStatus.choices)


@dataclass(frozen=True)
class RecordsPage:
    rows: list[RecordRow]
    number: int
    page_size: int
    count: int  # exact up to the cap
    capped: bool  # True: there are more than `count` rows
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.rows)


def normalise_sort(sort: str | None) -> str:
    key = (sort or "").lstrip("-")
    return sort if key in SORTS else DEFAULT_SORT


def call_record_table(
    *,
    scope: RecordScope,
    filters: RecordFilters,
    sort: str | None = None,
    page: int = 1,
    outcomes: list[tuple[int, str]] | None = None,
) -> RecordsPage:
    """One page of the filtered records, sorted, with a count that stops at the cap.

    One query: the page (an index scan in sort order with LIMIT/OFFSET, reading only the columns
    the table shows) carries the capped count as a column computed once (COUNT over a LIMITed
    subquery: constant cost however big the table). Only a page with no rows to carry it, past
    the last page, asks the count on its own, and is then clamped to the last page.
    Past the cap the table says "10,000+": narrow the filters or export. `outcomes`: the
    `record_outcomes()` the caller already read (else they are read when a row has one).
    """
    sort = normalise_sort(sort)
    page_size = settings.CDR_DASHBOARD_PAGE_SIZE
    cap = settings.CDR_DASHBOARD_COUNT_CAP
    records = call_records_filter(call_records_visible_to(scope), filters)
    number = max(1, page)
    offset = (number - 1) * page_size
    rows, total = _table_page(records, sort, offset, page_size, cap, outcomes) if offset < cap else ([], None)
    if total is None:
        total = 0 if number == 1 else records.order_by()[: cap + 1].count()
        pages = max(1, -(-min(total, cap) // page_size))
        if number > pages:  # past the end: show the last page
            number = pages
            offset = (number - 1) * page_size
            rows = _table_page(records, sort, offset, page_size, cap, outcomes)[0] if total else []
    return RecordsPage(
        rows=rows, number=number, page_size=page_size, count=min(total, cap), capped=total > cap, sort=sort
    )


_TABLE_SQL_FRAMES: dict[tuple[str, str], tuple[str, str, str]] = {}


def _table_sql_frame(connection, sort: str) -> tuple[str, str, str]:
    """The table statement's columns, table and ORDER BY, quoted for the connection's database
    (built once per database vendor and sort)."""
    frame = _TABLE_SQL_FRAMES.get((connection.vendor, sort))
    if frame is None:
        q = connection.ops.quote_name
        table = q(CallRecord._meta.db_table)

        def column(name: str) -> str:
            return f"{table}.{q(CallRecord._meta.get_field(name).column)}"

        direction = " DESC" if sort.startswith("-") else " ASC"
        select = ", ".join([*(column(name) for name in _TABLE_COLUMNS), f"{column('recording_url')} <> ''"])
        order = ", ".join(column(name) + direction for name in SORTS[sort.lstrip("-")])
        frame = _TABLE_SQL_FRAMES[(connection.vendor, sort)] = (select, table, order)
    return frame


def _table_page(
    records: QuerySet[CallRecord], sort: str, offset: int, limit: int, cap: int, outcomes: list | None
) -> tuple[list[RecordRow], int | None]:
    """The rows of one page, and the capped count (None when the page has no rows).

    The filters' WHERE clause is the ORM's (`call_records_filter`: its lookups, the hour
    expression the index is built on, LIKE escaping); only the statement around it is written
    here, once, instead of compiling the whole query twice (page and count) on every request.
    """
    connection = connections[records.db]
    try:
        where, params = records.query.get_compiler(connection=connection).compile(records.query.where)
    except EmptyResultSet:  # records.none(): an agent sign-in with no agent
        return [], None
    except FullResultSet:  # no condition at all
        where, params = "", []
    select, table, order = _table_sql_frame(connection, sort)
    condition = f" WHERE {where}" if where else ""
    # Names from the model and the ORM's WHERE; every value is a parameter.
    sql = (
        f"SELECT {select}, "  # noqa: S608
        # uncorrelated: the database counts once per query, not once per row, and stops at the cap
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table}{condition} LIMIT %s) AS capped) "
        f"FROM {table}{condition} ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, cap + 1, *params, limit, offset])
        fetched = cursor.fetchall()
    started_col = CallRecord._meta.get_field("started_at").get_col(table)
    to_datetime = connection.ops.get_db_converters(started_col)  # SQLite hands back text
    zone = timezone.get_current_timezone()
    directions, statuses = _DIRECTION_LABELS, _STATUS_LABELS
    labels = {}
    if any(row[-3] is not None for row in fetched):  # a row with an outcome: its label
        labels = dict(outcomes if outcomes is not None else record_outcomes())
    rows = []
    for (
        call_id,
        started_at,
        direction_value,
        status,
        agent_name,
        did_number,
        client_number,
        duration,
        talk,
        hangup_cause,
        disposition_id,
        has_recording,
        _,
    ) in fetched:
        for convert in to_datetime:
            started_at = convert(started_at, started_col, connection)
        rows.append(
            RecordRow(
                call_id,
                started_at.astimezone(zone),
                directions.get(direction_value, direction_value),
                status,
                statuses.get(status, status),
                agent_name,
                did_number,
                client_number,
                minutes_seconds(duration),
                minutes_seconds(talk),
                hangup_cause,
                bool(has_recording),
                labels.get(disposition_id, ""),
            )
        )
    return rows, (fetched[0][-1] if fetched else None)


# --- Charts ----------------------------------------------------------------------------------


@dataclass
class ChartData:
    hourly: dict[str, list] = field(default_factory=dict)
    daily: dict[str, list] = field(default_factory=dict)
    status: dict[str, list] = field(default_factory=dict)
    agents: dict[str, list] = field(default_factory=dict)
    outcomes: dict[str, list] = field(default_factory=dict)
    agent_outcomes: dict[str, list] = field(default_factory=dict)
    total: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "hourly": self.hourly,
            "daily": self.daily,
            "status": self.status,
            "agents": self.agents,
            "outcomes": self.outcomes,
            "agent_outcomes": self.agent_outcomes,
            "total": self.total,
        }


def call_record_charts(
    *, scope: RecordScope, filters: RecordFilters, outcomes: list[tuple[int, str]]
) -> dict[str, Any]:
    """Calls per hour of day and per day (answered/missed), answered vs missed, per-agent
    volume and talk time, and calls per outcome, overall and per agent (`outcomes`:
    `record_outcomes()`, which the filter form has read), over the filtered records. Three grouped
    queries; cached briefly (the key changes whenever a sync stores something, or a wrap-up
    changes a record's outcome)."""
    # Cheap to read (both are primary-key lookups) and changed by every sync that stores rows.
    newest = CallRecord.objects.aggregate(v=Max("id"))["v"]
    last_run = CallRecordSyncRun.objects.order_by("-id").values_list("id", flat=True).first()
    version = f"{newest}:{last_run}:{cache.get(OUTCOMES_VERSION_KEY, 0)}"
    # "2": the shape with agent_outcomes (charts cached in the old shape are not served after a deploy)
    key = f"records:charts:2:{scope.key}:{version}:{timezone.get_current_timezone_name()}:{filters.cache_key()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    records = call_records_filter(call_records_visible_to(scope), filters).order_by()
    data = _charts(records, outcomes).as_dict()
    cache.set(key, data, CHARTS_CACHE_SECONDS)
    return data


def _charts(records: QuerySet[CallRecord], outcomes: list[tuple[int, str]]) -> ChartData:
    zone = timezone.get_current_timezone()
    answered, missed = CallRecordStatus.ANSWERED.value, CallRecordStatus.MISSED.value
    by_time = (
        records.annotate(day=TruncDate("started_at", tzinfo=zone), hour=ExtractHour("started_at", tzinfo=zone))
        .values("day", "hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    hours = {answered: [0] * 24, missed: [0] * 24, "other": [0] * 24}
    days: dict[date, dict[str, int]] = {}
    for row in by_time:
        kind = row["status"] if row["status"] in (answered, missed) else "other"
        hours[kind][row["hour"]] += row["n"]
        day = row["day"]
        if isinstance(day, str):  # some backends hand dates back as text
            day = date.fromisoformat(day)
        counts = days.setdefault(day, {answered: 0, missed: 0, "other": 0})
        counts[kind] += row["n"]
    day_labels: list[date] = []
    if days:
        first, last = min(days), max(days)
        day_labels = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    empty = {answered: 0, missed: 0, "other": 0}
    by_agent = list(
        records.values("agent_id")
        .annotate(
            calls=Count("id"),
            answered=Count("id", filter=Q(status=answered)),
            talk=Sum("answered_seconds"),
            name=Max("agent_name"),
        )
        .order_by("-calls")
    )
    grouped = records.values_list("agent_id", "disposition_id").annotate(n=Count("id")).order_by()
    per_agent_outcome: dict[tuple[int | None, int | None], int] = {(agent, outcome): n for agent, outcome, n in grouped}
    per_outcome: dict[int | None, int] = {}
    for (_, outcome), n in per_agent_outcome.items():
        per_outcome[outcome] = per_outcome.get(outcome, 0) + n
    totals = {kind: sum(values) for kind, values in hours.items()}
    data = ChartData(total=sum(totals.values()))
    data.hourly = {
        "labels": [f"{h:02d}:00" for h in range(24)],
        "keys": list(range(24)),
        "answered": hours[answered],
        "missed": hours[missed],
        "other": hours["other"],
    }
    data.daily = {
        "labels": [d.strftime("%d %b") for d in day_labels],
        "keys": [d.isoformat() for d in day_labels],
        "answered": [days.get(d, empty)[answered] for d in day_labels],
        "missed": [days.get(d, empty)[missed] for d in day_labels],
        "other": [days.get(d, empty)["other"] for d in day_labels],
    }
    data.status = {
        "labels": ["Answered", "Missed"] + (["Other"] if totals["other"] else []),
        "keys": [answered, missed] + ([""] if totals["other"] else []),
        "values": [totals[answered], totals[missed]] + ([totals["other"]] if totals["other"] else []),
    }
    data.agents = {
        "labels": [row["name"] or ("Not linked" if row["agent_id"] else "No agent") for row in by_agent],
        "keys": [row["agent_id"] if row["agent_id"] is not None else NO_AGENT for row in by_agent],
        "calls": [row["calls"] for row in by_agent],
        "answered": [row["answered"] for row in by_agent],
        "talk_minutes": [round((row["talk"] or 0) / 60, 1) for row in by_agent],
    }
    # in the workspace's order, then the calls nobody noted an outcome for
    noted = [(pk, label) for pk, label in outcomes if per_outcome.get(pk)]
    unnoted = [(NO_OUTCOME, "No outcome")] if per_outcome.get(None) else []
    data.outcomes = {
        "labels": [label for _, label in noted + unnoted],
        "keys": [pk for pk, _ in noted + unnoted],
        "values": [per_outcome[pk] for pk, _ in noted] + [per_outcome[None] for _ in unnoted],
    }
    # The agents as in their own chart (most calls first), a series per outcome as above.
    agents = [row["agent_id"] for row in by_agent]
    data.agent_outcomes = {
        "labels": data.agents["labels"],
        "keys": data.agents["keys"],
        "series": [
            {
                "key": key,
                "label": label,
                "values": [per_agent_outcome.get((agent, None if key == NO_OUTCOME else key), 0) for agent in agents],
            }
            for key, label in noted + unnoted
        ],
    }
    return data


# --- CSV export ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    # (header, field)
    ("call_id", "call_id"),
    ("started_at", "started_at"),
    ("ended_at", "ended_at"),
    ("direction", "direction"),
    ("status", "status"),
    ("agent", "agent_name"),
    ("agent_number", "agent_number"),
    ("client_number", "client_number"),
    ("did_number", "did_number"),
    ("call_duration_seconds", "call_duration"),
    ("answered_seconds", "answered_seconds"),
    ("minutes_consumed", "minutes_consumed"),
    ("hangup_cause", "hangup_cause"),
    ("services", "services"),
    ("department", "department"),
    ("destination", "destination"),
    ("dtmf_input", "dtmf_input"),
    ("broadcast_id", "broadcast_id"),
    ("custom_identifier", "custom_identifier"),
    ("has_recording", "recording_url"),
    # The agents' wrap-up: of our call (the record's OutboundCall), or of the inbound call each
    # agent answered (looked up per chunk).
    ("disposition", "outbound_call__disposition__label"),
    ("note", "outbound_call__note"),
)
EXPORT_CHUNK_ROWS = 2000


def export_header() -> list[str]:
    zone = timezone.get_current_timezone_name()
    return [f"{name} ({zone})" if name.endswith("_at") else name for name, _ in EXPORT_COLUMNS]


def call_record_export_rows(*, scope: RecordScope, filters: RecordFilters) -> Iterator[list[str]]:
    """Every filtered record as CSV cells, newest first, times in the display zone.

    Streams through a server-side cursor in chunks; values that a spreadsheet would run as a
    formula are prefixed with a quote (phone numbers in E.164 are left alone).
    """
    records = call_records_filter(call_records_visible_to(scope), filters).order_by("-started_at", "-id")
    # and whose our call is: an agent reads its wrap-up only if it is theirs (placed or passed to them)
    fields = [name for _, name in EXPORT_COLUMNS] + ["outbound_call__agent_id", "outbound_call__transferred_to_id"]
    zone = timezone.get_current_timezone()
    rows = records.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK_ROWS)
    while chunk := list(islice(rows, EXPORT_CHUNK_ROWS)):
        # Records with no call of ours (its wrap-up columns are NULL): the inbound wrap-ups, at once.
        wrap_ups = _inbound_wrap_ups([values[0] for values in chunk if values[-3] is None], scope)
        for *values, placed_by, passed_to in chunk:
            if values[-1] is None:
                values[-2:] = wrap_ups.get(values[0], ("", ""))
            elif not scope.supervisor and scope.agent_id not in (placed_by, passed_to):
                values[-2:] = ("", "")
            yield _export_row(values, zone)


def _inbound_wrap_ups(call_ids: list[str], scope: RecordScope) -> dict[str, tuple[str, str]]:
    """{call_id: (disposition, note)} of the inbound calls agents answered; after a transfer each
    agent's, named. An agent gets only their own (a colleague's note is theirs to read)."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    if call_ids:
        answered = RingingAlert.objects.filter(call_id__in=call_ids, answered_at__isnull=False).order_by("answered_at")
        if not scope.supervisor:
            answered = answered.filter(agent_id=scope.agent_id)
        for call_id, agent, disposition, note in answered.values_list(
            "call_id", "agent__name", "disposition__label", "note"
        ):
            found.setdefault(call_id, []).append((agent, disposition or "", note))
    wrap_ups = {}
    for call_id, parts in found.items():
        if len(parts) == 1:
            wrap_ups[call_id] = parts[0][1:]
        else:
            wrap_ups[call_id] = tuple(
                "; ".join(f"{agent}: {text}" for agent, *texts in parts if (text := texts[i])) for i in (0, 1)
            )
    return wrap_ups


def _export_row(values: list, zone) -> list[str]:
    row = []
    for (header, _), value in zip(EXPORT_COLUMNS, values, strict=True):
        if header == "has_recording":
            row.append("yes" if value else "no")
        elif isinstance(value, datetime):
            row.append(value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"))
        elif value is None:
            row.append("")
        else:
            row.append(_csv_safe(str(value)))
    return row


def _csv_safe(text: str) -> str:
    if text.startswith(_CSV_FORMULA_START) and not _E164.match(text):
        return "'" + text
    return text


# --- Sync status -----------------------------------------------------------------------------


def call_record_sync_status() -> CallRecordSyncRun | None:
    """The latest sync run that ran (skipped ones are left out): one query, a backward walk of
    the primary key (runs are numbered as they start) that stops at the first run that ran,
    however many runs a year of syncs every five minutes leaves."""
    using = router.db_for_read(CallRecordSyncRun)
    rows = _SYNC_STATUS.rows(using=using)
    return CallRecordSyncRun.from_db(using, _SYNC_RUN_FIELDS, rows[0]) if rows else None


_SYNC_RUN_FIELDS = [f.attname for f in CallRecordSyncRun._meta.concrete_fields]
_SYNC_STATUS = CompiledQuery(  # on every dashboard page
    lambda: (
        CallRecordSyncRun.objects.exclude(status=CallRecordSyncRunStatus.SKIPPED)
        .order_by("-id")
        .values_list(*_SYNC_RUN_FIELDS)[:1]
    )
)


# What a failed run's stored error ("<exception class>: <detail>") means to the people reading
# the dashboard; the detail stays available beside it.
_SYNC_FAILURES = {
    "SmartfloConnectionError": "Smartflo could not be reached",
    "SmartfloTimeoutError": "Smartflo did not answer in time",
    "SmartfloServerError": "Smartflo had an error on its side",
    "SmartfloRateLimitedError": "Smartflo asked us to slow down",
    "SmartfloAuthError": "Smartflo refused our credentials",
    "SmartfloRejectedError": "Smartflo refused the request",
    "SmartfloResponseError": "Smartflo sent an answer we could not read",
    "SmartfloError": "Smartflo could not be used",
    "WindowIncomplete": "Smartflo's records came back incomplete",
    "LeaseLost": "Another sync run took over",
}


def sync_failure_summary(error: str) -> str:
    """A failed sync run's error in words for the dashboard ("Smartflo could not be reached"),
    without the exception class it is stored with."""
    kind, separator, _ = error.partition(":")
    if separator and kind in _SYNC_FAILURES:
        return _SYNC_FAILURES[kind]
    if "lock expired" in error:
        return "The sync stopped without finishing"
    return "The sync could not finish"
