"""Provider timestamps are naive IST strings; inside the app everything is aware."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactcenter.smartflo.timefmt import IST, combine_ist, format_ist, parse_ist


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (datetime(2024, 5, 9, 6, 22, 14, tzinfo=UTC), "2024-05-09 11:52:14"),
        (datetime(2024, 5, 9, 11, 52, 14, tzinfo=IST), "2024-05-09 11:52:14"),
        (datetime(2024, 5, 8, 20, 0, 0, tzinfo=ZoneInfo("America/New_York")), "2024-05-09 05:30:00"),
        # crossing midnight and the year boundary
        (datetime(2023, 12, 31, 20, 0, 0, tzinfo=UTC), "2024-01-01 01:30:00"),
        (datetime(2024, 5, 9, 0, 0, 0, tzinfo=timezone(timedelta(hours=14))), "2024-05-08 15:30:00"),
    ],
)
def test_aware_datetimes_in_any_zone_become_ist_wire_strings(value, wire):
    assert format_ist(value) == wire


def test_wire_strings_parse_to_aware_ist_and_back():
    parsed = parse_ist("2024-05-09 11:52:14")
    assert parsed.utcoffset() == timedelta(hours=5, minutes=30)
    assert parsed.astimezone(UTC) == datetime(2024, 5, 9, 6, 22, 14, tzinfo=UTC)
    assert format_ist(parsed) == "2024-05-09 11:52:14"
    assert format_ist(parsed.astimezone(UTC)) == "2024-05-09 11:52:14"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        format_ist(datetime(2024, 5, 9, 11, 52, 14))


@pytest.mark.parametrize("empty", [None, "", "0000-00-00 00:00:00", " "])
def test_empty_provider_timestamps_are_none(empty):
    assert parse_ist(empty) is None


def test_garbage_timestamp_raises():
    with pytest.raises(ValueError):
        parse_ist("yesterday")


@pytest.mark.parametrize("garbled", ["0001-01-01 00:00:00", "0282-08-01 14:07:42", "1899-12-31", "2100-01-01 00:00"])
def test_timestamps_from_another_century_are_garbled(garbled):
    # Year 1 overflows in UTC; before 1906 Asia/Kolkata's offsets have seconds ISO 8601 cannot carry.
    with pytest.raises(ValueError):
        parse_ist(garbled)


def test_date_and_time_columns_combine():
    assert combine_ist("2021-03-10", "17:16:18") == datetime(2021, 3, 10, 17, 16, 18, tzinfo=IST)
    assert combine_ist("2021-03-10", None) == datetime(2021, 3, 10, tzinfo=IST)
    assert combine_ist("", "17:16:18") is None


def _parse_slowly(text: str):
    """parse_ist's general path alone (strptime), to hold the fast path to the same answers."""
    text = text.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text[:19], fmt).replace(tzinfo=IST)
        except ValueError:
            continue
        return parsed if parsed.year in range(2000, 2100) else None
    return None


@given(
    st.one_of(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2110, 1, 1)).map(
            lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S")
        ),
        st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}.{0,4}\Z"),
        st.text(alphabet="0123456789-: T.", min_size=10, max_size=24),
    )
)
def test_the_fast_path_gives_the_answers_of_the_general_path(text):
    try:
        fast = parse_ist(text)
    except ValueError:
        fast = None
    assert fast == _parse_slowly(text)
