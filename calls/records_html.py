"""The dashboard's repeated HTML, built in Python: the table rows and the filter controls.

A template loop over 50 rows x 9 cells, or a form whose widgets each render a template per
`<option>`, costs several times the page's SQL; the admin's change list builds its rows in
Python for the same reason. Every value is escaped here as the template engine would escape it
(`html.escape`, which is what django.utils.html.escape calls), and the filter controls come out
byte for byte as Django's widget templates write them (tests/records/test_dashboard.py checks).
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from urllib.parse import quote

from django.forms import BoundField, Form, Select
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from calls.records_selectors import RecordRow

DASH = "–"
MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")  # what `quote` leaves as it is


def _quoted(text: str) -> str:
    """`escape(quote(text))`, without quote's cost for the call ids and numbers of every row."""
    if _PLAIN.fullmatch(text):
        return text
    if text[:1] == "+" and text[1:].isascii() and text[1:].isdigit():
        return "%2B" + text[1:]
    return escape(quote(text))


# Agent names, statuses, directions, DIDs and hangup causes repeat from row to row.
_escape_repeated = lru_cache(maxsize=2048)(escape)


@lru_cache(maxsize=512)
def hangup_cell(cause: str) -> str:
    """`NORMAL_CLEARING` as "Normal clearing" (words, which wrap in a narrow column), with the
    code Smartflo sent as its tooltip; a dash when there is none."""
    if not cause:
        return f'<td class="small">{DASH}</td>'
    words = cause.replace("_", " ").strip()
    if words.isupper() or "_" in cause:  # a code, not words someone wrote
        words = words.capitalize()
    return f'<td class="small" title="{escape(cause)}">{escape(words) or DASH}</td>'


def table_rows(rows: list[RecordRow]) -> SafeString:
    """The table body: one `<tr>` per row (start, direction, status, agent, customer as a call-back
    link, the agents' outcome, duration, talk time, hangup cause, a play button for the recording proxy)."""
    records_url, dial_url = reverse("calls:records"), reverse("calls:workspace")
    again = _escape_repeated
    html = []
    for row in rows:
        call_id, number = escape(row.call_id), escape(row.client_number)
        if number:
            customer = f'<a href="{dial_url}?dial={_quoted(row.client_number)}" title="Call back">{number}</a>'
        else:
            customer = DASH
        at = row.started  # strftime("%d %b %Y, %H:%M:%S") in the C locale, at a third of its cost
        day, clock = f"{at.day:02d} {MONTHS[at.month]}", f"{at.hour:02d}:{at.minute:02d}"
        if row.has_recording:
            label = f"{day}, {clock} · {number}"
            source = f"{records_url}{_quoted(row.call_id)}/recording"
            recording = f'<button type="button" class="play" data-src="{source}" data-label="{label}">▶ Play</button>'
        else:
            recording = f'<span class="muted">{DASH}</span>'
        html.append(
            f'<tr data-call-id="{call_id}"><td class="nowrap" title="{call_id}">'
            f"{day} {at.year}, {clock}:{at.second:02d}</td>"
            f"<td>{again(row.direction) or DASH}</td>"
            f'<td><span class="badge record-{again(row.status) or "unknown"}">{again(row.status_label) or DASH}'
            f"</span></td><td>{again(row.agent_name) or DASH}</td>"
            f'<td class="nowrap" title="DID {again(row.did_number) or DASH}">{customer}</td>'
            f"<td>{again(row.outcome) or DASH}</td>"
            f'<td class="num">{row.duration}</td><td class="num">{row.talk_time}</td>'
            f"{hangup_cell(row.hangup_cause)}<td>{recording}</td></tr>"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)


def form_controls(form: Form) -> dict[str, SafeString]:
    """`{field name: its widget's HTML}`, as `{{ form.<name> }}` would render it, for forms made of
    plain inputs and selects (the filter form)."""
    return {name: _control(form[name]) for name in form.fields}


def _control(field: BoundField) -> SafeString:
    # What BoundField.as_widget does, minus the widget templates.
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    name = escape(context["name"])
    if isinstance(widget, Select):
        if widget.allow_multiple_selected:
            raise ValueError("multiple selects are not supported here")
        options = []
        for group_name, group, _ in context["optgroups"]:
            if group_name:
                raise ValueError("option groups are not supported here")
            options += [
                f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{escape(str(option['label']))}</option>\n"  # the option template's own line end
                for option in group
            ]
        return mark_safe(f'<select name="{name}"{_attrs(context["attrs"])}>{"".join(options)}\n</select>')  # noqa: S308
    value = context["value"]
    value = "" if value is None else f' value="{escape(str(value))}"'
    return mark_safe(f'<input type="{escape(context["type"])}" name="{name}"{value}{_attrs(context["attrs"])}>')  # noqa: S308


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )
