"""Smartflo's clock: `YYYY-MM-DD HH:MM:SS`, naive, in India Standard Time.

Conversion happens here, at the boundary: aware datetimes inside the application, provider
strings on the wire.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
_EMPTY = {"", "0000-00-00 00:00:00", "0000-00-00", "00:00:00", "null", "None"}
# Smartflo's timestamps are from this century. Others are garbled, and would not survive the
# trip through the database and back (year 1 overflows in UTC; before 1906 Asia/Kolkata's
# offsets have seconds, which ISO 8601 output cannot carry).
_YEARS = range(2000, 2100)


def format_ist(value: datetime | str) -> str:
    """An aware datetime (any zone) as the provider's IST wall-clock string.

    A string already in the wire format is checked and passed through. Naive datetimes are
    refused: which zone they mean is a guess, and a wrong guess shifts a sync by 5h30.
    """
    if isinstance(value, str):
        datetime.strptime(value, WIRE_FORMAT)  # raises ValueError with the offending text
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or 'YYYY-MM-DD HH:MM:SS' string, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
    return value.astimezone(IST).strftime(WIRE_FORMAT)


def parse_ist(value: str | None) -> datetime | None:
    """A provider timestamp (`2024-05-09 11:52:14`, also with a `T`) as an aware datetime."""
    if value is None:
        return None
    text = str(value).strip()
    if text in _EMPTY:
        return None
    text = text.replace("T", " ")
    head = text[:19]
    # The usual case, Smartflo's exact wire format, through the C parser (strptime was about a
    # third of a call-records sync's CPU); anything else takes the general path below.
    if len(head) == 19 and head.isascii() and head[4] == "-" and head[10] == " " and head[16] == ":":
        try:
            parsed = datetime.fromisoformat(head).replace(tzinfo=IST)
        except ValueError:
            pass
        else:
            if parsed.year in _YEARS:
                return parsed
            raise ValueError(f"not a Smartflo timestamp: {text!r}")
    for fmt in (WIRE_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text[:19], fmt).replace(tzinfo=IST)
        except ValueError:
            continue
        if parsed.year not in _YEARS:
            break
        return parsed
    raise ValueError(f"not a Smartflo timestamp: {text!r}")


def combine_ist(day: str | None, clock: str | None) -> datetime | None:
    """A record's separate `date` (`YYYY-MM-DD`) and `time` (`HH:MM:SS`) as one aware datetime."""
    if not day or str(day).strip() in _EMPTY:
        return None
    parsed_day = date.fromisoformat(str(day).strip()[:10])
    parsed_time = time.fromisoformat(str(clock).strip()) if clock and str(clock).strip() not in _EMPTY else time()
    return datetime.combine(parsed_day, parsed_time, tzinfo=IST)
