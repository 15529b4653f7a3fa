"""The call-record store and the `GET /call/records` query.

Records are kept sorted by (start, call_id), with a parallel key list for `bisect`, so the
date-range part of every query is two binary searches and pages are stable. Filters other than
the date range scan only the rows inside the range.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox import clock, phones
from sandbox.errors import BadRequest, NotFound
from sandbox.records import RECORD_FIELDS, as_list, public, start_of

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
}
_CALL_TYPES = {"c": "answered", "m": "missed"}
Key = tuple[int, str]


def _key(record: dict[str, Any]) -> Key:
    return record["_start"], record["call_id"]


@dataclass
class RecordQuery:
    """The parsed query string of `GET /call/records`."""

    start: int
    end: int
    page: int = 1
    limit: int = DEFAULT_LIMIT
    call_id: str | None = None
    agents: frozenset[str] | None = None
    departments: frozenset[str] | None = None
    ivrs: frozenset[str] | None = None
    status: str | None = None
    callerid: str | None = None
    destination: str | None = None
    direction: str | None = None
    duration: int | None = None
    operator: str = "="
    services: frozenset[str] | None = None

    @classmethod
    def from_params(cls, params: dict[str, list[str]]) -> RecordQuery:
        """Parse and validate; BadRequest names the offending parameter."""

        def one(name: str) -> str | None:
            values = params.get(name)
            return values[-1].strip() if values else None

        def many(name: str) -> frozenset[str] | None:
            values = [*params.get(name, []), *params.get(f"{name}[]", [])]
            items = {part.strip().lower() for value in values for part in value.split(",") if part.strip()}
            return frozenset(items) or None

        query = cls(start=_stamp_param(one("from_date"), "from_date"), end=_stamp_param(one("to_date"), "to_date"))
        if query.start > query.end:
            raise BadRequest("from_date must not be after to_date")
        query.page = _int_param(one("page"), "page", default=1, minimum=1)
        query.limit = min(_int_param(one("limit"), "limit", default=DEFAULT_LIMIT, minimum=1), MAX_LIMIT)
        query.call_id = one("call_id") or None
        query.agents = many("agents")
        query.departments = many("department")
        query.ivrs = many("ivr")
        query.services = many("services")
        call_type = (one("call_type") or "").lower()
        if call_type:
            if call_type not in _CALL_TYPES:
                raise BadRequest("call_type must be c (answered) or m (missed)")
            query.status = _CALL_TYPES[call_type]
        callerid = one("callerid")
        if callerid:
            query.callerid = phones.customer(callerid) or callerid
        query.destination = (one("destination") or "").lower() or None
        direction = (one("direction") or "").lower()
        if direction:
            if direction not in ("inbound", "outbound"):
                raise BadRequest("direction must be inbound or outbound")
            query.direction = direction
        duration = one("duration")
        if duration:
            query.duration = _int_param(duration, "duration", default=0, minimum=0)
        query.operator = one("operator") or "="
        if query.operator not in _OPERATORS:
            raise BadRequest("operator must be one of >, <, >=, <=, !=, =")
        return query

    def has_filters(self) -> bool:
        return any(
            value is not None
            for value in (
                self.agents,
                self.departments,
                self.ivrs,
                self.status,
                self.callerid,
                self.destination,
                self.direction,
                self.duration,
                self.services,
            )
        )

    def matches(self, record: dict[str, Any]) -> bool:
        if self.status and record["status"] != self.status:
            return False
        if self.direction and str(record["direction"]).lower() != self.direction:
            return False
        if self.agents and str(record["agent_id"]) not in self.agents:
            return False
        if self.departments and not self.departments & {str(d).lower() for d in record["department"] or ()}:
            return False
        if self.ivrs and not self.ivrs & {str(i).lower() for i in record.get("_ivr") or ()}:
            return False
        if self.services and not self.services & {s.strip().lower() for s in str(record["services"]).split(",")}:
            return False
        if self.callerid and phones.customer(record["client_number"]) != self.callerid:
            return False
        if self.destination and not self._destination_matches(str(record["destination"] or "")):
            return False
        return self.duration is None or _OPERATORS[self.operator](int(record["call_duration"]), self.duration)

    def _destination_matches(self, destination: str) -> bool:
        if destination.lower() == self.destination:
            return True
        number = phones.customer(self.destination or "")
        return number is not None and phones.customer(destination) == number


class RecordStore:
    """Sorted call records with an index by call_id. Not thread-safe: the state lock guards it."""

    def __init__(self) -> None:
        self._keys: list[Key] = []
        self._rows: list[dict[str, Any]] = []
        self._by_call_id: dict[str, dict[str, Any]] = {}
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._by_call_id

    def get(self, call_id: str) -> dict[str, Any] | None:
        record = self._by_call_id.get(call_id)
        return public(record) if record else None

    def clear(self) -> None:
        self._keys, self._rows, self._by_call_id = [], [], {}
        self._next_id = 1

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        """Insert one record, replacing any record with the same call_id (keeping its id)."""
        old = self._by_call_id.get(record["call_id"])
        if old is not None:
            self._unlink(old)
            record["id"] = old["id"]
        else:
            record["id"] = self._take_id()
        index = bisect_left(self._keys, _key(record))
        self._keys.insert(index, _key(record))
        self._rows.insert(index, record)
        self._by_call_id[record["call_id"]] = record
        return record

    def add_many(self, records: Iterable[dict[str, Any]]) -> int:
        """Bulk insert (upsert by call_id): one sort instead of one insert per record."""
        new = list(records)
        replaced = {r["call_id"]: self._by_call_id[r["call_id"]] for r in new if r["call_id"] in self._by_call_id}
        pairs = [(k, r) for k, r in zip(self._keys, self._rows, strict=True) if r["call_id"] not in replaced]
        for record in new:
            old = replaced.get(record["call_id"])
            record["id"] = old["id"] if old is not None else self._take_id()
            self._by_call_id[record["call_id"]] = record
            pairs.append((_key(record), record))
        pairs.sort(key=operator.itemgetter(0))
        self._keys = [k for k, _ in pairs]
        self._rows = [r for _, r in pairs]
        return len(new)

    def update(self, call_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change fields of a record (e.g. a recording URL that arrives later)."""
        record = self._by_call_id.get(call_id)
        if record is None:
            raise NotFound(f"No record with call_id {call_id}")
        refused = sorted(k for k in changes if k in ("id", "call_id") or (k not in RECORD_FIELDS and k != "ivr"))
        if refused:
            raise BadRequest(f"fields that cannot be changed: {', '.join(refused)}")
        self._unlink(record)
        updated = {**record}
        for key, value in changes.items():
            if key in ("ivr", "department"):
                value = as_list(value)
            updated["_ivr" if key == "ivr" else key] = value
        if "date" in changes or "time" in changes:
            updated["_start"] = start_of(updated["date"], updated["time"])
        index = bisect_left(self._keys, _key(updated))
        self._keys.insert(index, _key(updated))
        self._rows.insert(index, updated)
        self._by_call_id[call_id] = updated
        return public(updated)

    def query(self, query: RecordQuery, *, repeat_rows: float = 0.0) -> dict[str, Any]:
        """One page of `GET /call/records`.

        `repeat_rows` (a fault) replaces that fraction of the page's first rows with the last
        rows of the previous page, as a provider whose pages shift between requests does.
        """
        lo = bisect_left(self._keys, (query.start, ""))
        hi = bisect_left(self._keys, (query.end + 1, ""))
        offset = (query.page - 1) * query.limit
        if query.call_id is not None:
            record = self._by_call_id.get(query.call_id)
            matched: list[dict[str, Any]] = []
            if record is not None and query.start <= record["_start"] <= query.end and query.matches(record):
                matched.append(record)
            base, count = 0, len(matched)
        elif query.has_filters():
            matched = [r for r in self._rows[lo:hi] if query.matches(r)]
            base, count = 0, len(matched)
        else:
            matched, base, count = self._rows, lo, hi - lo
        page = matched[base + offset : base + min(offset + query.limit, count)]
        if repeat_rows and offset and page:
            repeat = min(len(page), max(1, math.floor(repeat_rows * len(page) + 0.5)))
            previous = matched[base + offset - repeat : base + offset]
            page = previous + page[len(previous) :]
        return {
            "count": count,
            "limit": query.limit,
            "size": len(page),
            "page": query.page,
            "results": [public(r) for r in page],
        }

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _unlink(self, record: dict[str, Any]) -> None:
        index = bisect_left(self._keys, _key(record))
        del self._keys[index]
        del self._rows[index]
        del self._by_call_id[record["call_id"]]


def _stamp_param(value: str | None, name: str) -> int:
    if not value:
        raise BadRequest(f"{name} is required (YYYY-MM-DD HH:MM:SS)")
    try:
        return clock.parse_stamp(value)
    except ValueError:
        raise BadRequest(f"{name} must be YYYY-MM-DD HH:MM:SS") from None


def _int_param(value: str | None, name: str, *, default: int, minimum: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if number < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return number
