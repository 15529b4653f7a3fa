"""The call records dashboard's filter form: query-string in, RecordFilters out."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateformat import format as date_format

from calls.models import CallDirection, CallRecordStatus
from calls.records_selectors import NO_AGENT, NO_OUTCOME, RecordFilters, normalise_sort, parse_bound

DEFAULT_DAYS = 7
PHONE_TEXT = re.compile(r"\+?[\d\s().-]*\d[\d\s().-]*")


def default_days() -> tuple[date, date]:
    """The first and last day the dashboard shows when no dates are asked for: the last
    DEFAULT_DAYS days, today included."""
    today = timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


class RecordFilterForm(forms.Form):
    """`from`/`to` are dates (or date-times) in the display zone, both inclusive. With neither
    given the dashboard shows the last DEFAULT_DAYS days. They are one filter, the date range:
    when either cannot be applied (not a date, out of range, or To before From) neither is, and
    the last DEFAULT_DAYS days are shown instead (`dates_shown_instead` says which)."""

    # Labels are what the page calls each filter: an error is shown as "<label>: <message>".
    agent = forms.ChoiceField(required=False, label="Agent")
    direction = forms.ChoiceField(
        required=False, label="Direction", choices=[("", "Any direction"), *CallDirection.choices]
    )
    status = forms.ChoiceField(
        required=False, label="Answered / missed", choices=[("", "Answered or missed"), *CallRecordStatus.choices]
    )
    op = forms.ChoiceField(
        required=False, label="Duration", choices=[(op, op) for op in (">=", ">", "<=", "<", "=", "!=")]
    )
    duration = forms.IntegerField(required=False, min_value=0, max_value=86400, label="Duration (s)")
    number = forms.CharField(required=False, max_length=32, label="Customer number")
    outcome = forms.ChoiceField(required=False, label="Outcome")
    hour = forms.IntegerField(required=False, min_value=0, max_value=23, label="Hour", widget=forms.HiddenInput)
    sort = forms.CharField(required=False, label="Sort", widget=forms.HiddenInput)

    def __init__(
        self, data: QueryDict, *, agents: list[tuple[int, str]], outcomes: list[tuple[int, str]] = (), **kwargs
    ) -> None:
        """`agents`: the `(id, name)` pairs a supervisor can filter by; none drops the field.
        `outcomes`: the `(id, label)` of the dispositions (`record_outcomes()`)."""
        data = data.copy()
        if "from" not in data and "to" not in data:
            first, last = default_days()
            data["from"], data["to"] = first.isoformat(), last.isoformat()
        super().__init__(data, **kwargs)
        # "from" is a Python keyword, so these two are added by name
        self.fields["from"] = forms.CharField(
            required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["to"] = forms.CharField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
        self.order_fields(["from", "to"])
        self.fields["agent"].choices = [("", "All agents"), *[(str(pk), name) for pk, name in agents]]
        self.fields["agent"].choices.append((NO_AGENT, "No agent"))
        if not agents:
            del self.fields["agent"]
        self.outcomes = list(outcomes)
        self.fields["outcome"].choices = [
            ("", "Any outcome"),
            *[(str(pk), label) for pk, label in outcomes],
            (NO_OUTCOME, "No outcome"),
        ]

    def _clean_bound(self, name: str, *, end: bool):
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        try:
            return parse_bound(value, end=end)
        except ValueError as exc:
            if str(exc) == "out of range":  # a real date the database cannot hold (year 1, 9999)
                raise forms.ValidationError("That date is out of range.") from None
            raise forms.ValidationError("Enter a date as YYYY-MM-DD.") from None

    def clean_from(self):
        return self._clean_bound("from", end=False)

    def clean_to(self):
        return self._clean_bound("to", end=True)

    def clean_number(self) -> str:
        """A whole number, or a few of its digits: digits with the usual separators, no letters."""
        value = (self.cleaned_data.get("number") or "").strip()
        if value and not PHONE_TEXT.fullmatch(value):
            raise forms.ValidationError(
                "Enter a phone number, or some of its digits (spaces, dashes and a leading + are fine)."
            )
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start is not None and end is not None and start > end:
            self.add_error("to", f"Must be on or after {self.fields['from'].label}.")
        return data

    def error_lines(self) -> list[str]:
        """Every error as the page shows it: "<the field's label>: <message>"."""
        messages = [
            f"{self.fields[name].label}: {error}" for name in self.fields for error in self.errors.get(name, [])
        ]
        return messages + list(self.non_field_errors())

    def dates_shown_instead(self) -> tuple[date, date] | None:
        """The days shown when the dates asked for cannot be applied (the default range), else None."""
        self.is_valid()
        if "from" in self.errors or "to" in self.errors:
            return default_days()
        return None

    def dates_shown_instead_line(self) -> str:
        """`dates_shown_instead` as the page says it under the errors ("" when the dates apply)."""
        days = self.dates_shown_instead()
        if days is None:
            return ""
        first, last = (date_format(day, "d M Y") for day in days)
        return f"Showing the last {DEFAULT_DAYS} days instead: {first} – {last}."

    def filters(self) -> RecordFilters:
        """The filters of the valid fields (an invalid one is shown as an error and ignored; an
        invalid date leaves the other date out too, for the default range)."""
        self.is_valid()
        data = self.cleaned_data
        start, end = data.get("from"), data.get("to")
        if (instead := self.dates_shown_instead()) is not None:
            start, end = parse_bound(instead[0].isoformat()), parse_bound(instead[1].isoformat(), end=True)
        agent = data.get("agent") or None
        if agent and agent != NO_AGENT:
            agent = int(agent)
        duration = data.get("duration") if "op" not in self.errors else None
        outcome = data.get("outcome") or None
        if outcome and outcome != NO_OUTCOME:
            outcome = int(outcome)
        return RecordFilters(
            start=start,
            end=end,
            agent=agent,
            direction=data.get("direction") or "",
            status=data.get("status") or "",
            # the operator and the seconds are one filter: with either refused, neither applies
            duration_op=(data.get("op") or ">=") if duration is not None else "",
            duration=duration,
            number=(data.get("number") or "").strip(),
            hour=data.get("hour"),
            outcome=outcome,
        )

    def sort_key(self) -> str:
        return normalise_sort(self.cleaned_data.get("sort") if hasattr(self, "cleaned_data") else None)
