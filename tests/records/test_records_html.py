"""The dashboard's table rows (calls/records_html.py::table_rows) against the plain way of writing
them (strftime, escape(quote(...)) on every value): the same HTML for any text, any time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from urllib.parse import quote

from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.records_html import DASH, table_rows
from calls.records_selectors import RecordRow
from contactcenter.smartflo import IST


def hangup(cause: str) -> str:
    if not cause:
        return f'<td class="small">{DASH}</td>'
    words = cause.replace("_", " ").strip()
    if words.isupper() or "_" in cause:
        words = words.capitalize()
    return f'<td class="small" title="{escape(cause)}">{escape(words) or DASH}</td>'


def reference(rows: list[RecordRow]) -> str:
    records_url, dial_url = reverse("calls:records"), reverse("calls:workspace")
    html = []
    for row in rows:
        call_id, number = escape(row.call_id), escape(row.client_number)
        if number:
            customer = f'<a href="{dial_url}?dial={escape(quote(row.client_number))}" title="Call back">{number}</a>'
        else:
            customer = DASH
        if row.has_recording:
            label = f"{row.started.strftime('%d %b, %H:%M')} · {number}"
            source = f"{records_url}{escape(quote(row.call_id))}/recording"
            recording = f'<button type="button" class="play" data-src="{source}" data-label="{label}">▶ Play</button>'
        else:
            recording = f'<span class="muted">{DASH}</span>'
        html.append(
            f'<tr data-call-id="{call_id}"><td class="nowrap" title="{call_id}">'
            f"{row.started.strftime('%d %b %Y, %H:%M:%S')}</td>"
            f"<td>{escape(row.direction) or DASH}</td>"
            f'<td><span class="badge record-{escape(row.status) or "unknown"}">{escape(row.status_label) or DASH}'
            f"</span></td><td>{escape(row.agent_name) or DASH}</td>"
            f'<td class="nowrap" title="DID {escape(row.did_number) or DASH}">{customer}</td>'
            f"<td>{escape(row.outcome) or DASH}</td>"
            f'<td class="num">{row.duration}</td><td class="num">{row.talk_time}</td>'
            f"{hangup(row.hangup_cause)}<td>{recording}</td></tr>"
        )
    return "".join(html)


text = st.text(max_size=12) | st.sampled_from(
    ["", "<b>&'\"", "+919812300001", "1716000000.000042", "a b/c?d", "NORMAL_CLEARING", "_", "No answer"]
)
number = text | st.from_regex(r"\+?[0-9]{0,13}", fullmatch=True) | st.from_regex(r"\+\d{1,6}", fullmatch=True)
moment = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9998, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC).astimezone(IST)
)
rows = st.lists(
    st.builds(
        RecordRow,
        call_id=text,
        started=moment,
        direction=text,
        status=text,
        status_label=text,
        agent_name=text,
        did_number=text,
        client_number=number,
        duration=st.just("1:05"),
        talk_time=st.just("0:59"),
        hangup_cause=text,
        has_recording=st.booleans(),
        outcome=text,
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(rows=rows)
def test_rows_are_the_plain_rendering_of_any_values(rows):
    assert table_rows(rows) == reference(rows)


def test_every_value_is_escaped():
    hostile = '<script>alert("x")</script>'
    row = RecordRow(hostile, datetime(2026, 3, 10, 9, 5, 7, tzinfo=IST) + timedelta(0), hostile, hostile, hostile,
                    hostile, hostile, hostile, "0:01", "0:01", hostile, True, hostile)  # fmt: skip
    html = table_rows([row])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "10 Mar 2026, 09:05:07" in html and 'data-label="10 Mar, 09:05 · &lt;script&gt;' in html


def test_hangup_causes_read_as_words_with_the_code_as_tooltip():
    row = RecordRow("1.2", datetime(2026, 3, 10, 9, 5, 7, tzinfo=IST), "Inbound", "missed", "Missed", "", "", "",
                    "0:01", "0:00", "ORIGINATOR_CANCEL", False, "")  # fmt: skip
    assert '<td class="small" title="ORIGINATOR_CANCEL">Originator cancel</td>' in table_rows([row])
