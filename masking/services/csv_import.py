"""Import masking rules from CSV: every good row is saved, every bad row is reported, not saved.

The header names the columns (any order, case-insensitive): `masking_number`, `party_a`,
`party_b` are required; `two_way`, `valid_from`, `valid_until`, `active`, `reference` are
optional. Booleans are true/false, yes/no, 1/0 (blank: the default). Times are ISO 8601
(`2025-01-31 18:00`, `2025-01-31T18:00:00+05:30`); without an offset they are in TIME_ZONE.
Each row is created through `masking_rule_create`, in its own transaction, so a row that
clashes with an earlier row of the same file is reported like any other clash.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from contactcenter.core.exceptions import ApplicationError
from masking.services.rules import masking_rule_create

REQUIRED_COLUMNS = ("masking_number", "party_a", "party_b")
OPTIONAL_COLUMNS = ("two_way", "valid_from", "valid_until", "active", "reference")
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


class CsvFileError(Exception):
    """The file as a whole cannot be imported (encoding, header, size); nothing was saved."""


@dataclass
class RowError:
    line: int
    errors: dict[str, list[str]]
    values: dict[str, str]


@dataclass
class ImportReport:
    created: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.errors)


def _boolean(raw: str, name: str, default: bool, errors: dict[str, list[str]]) -> bool:
    text = raw.strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors[name] = [f"{raw!r} is not true or false."]
    return default


def _moment(raw: str, name: str, errors: dict[str, list[str]]) -> datetime | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = parse_datetime(text)
        if value is None and (day := parse_date(text)) is not None:
            value = datetime(day.year, day.month, day.day)
    except ValueError:
        value = None
    if value is None:
        errors[name] = [f"{raw!r} is not a date and time (use 2025-01-31 18:00 or ISO 8601)."]
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise CsvFileError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError("The file is not UTF-8 text (save it as “CSV UTF-8”).") from exc


def _header(reader: Any) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError("The file is empty.") from None
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    problems = []
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if unknown:
        problems.append("unknown column(s): " + ", ".join(repr(name) for name in unknown))
    if duplicated:
        problems.append("repeated column(s): " + ", ".join(duplicated))
    if problems:
        raise CsvFileError("The header row is wrong: " + "; ".join(problems) + ".")
    return columns


def masking_rules_import_csv(*, file: IO[bytes] | IO[str], created_by: AbstractBaseUser | None) -> ImportReport:
    """Create one rule per data row; raise CsvFileError (nothing saved) for a file-level problem."""
    text = _decode(file.read(MAX_BYTES + 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns = _header(reader)
        rows = list(reader)
    except csv.Error as exc:
        raise CsvFileError(f"Not a readable CSV file: {exc}.") from exc
    if len(rows) > MAX_ROWS:
        raise CsvFileError(f"The file has {len(rows)} rows; import at most {MAX_ROWS} at a time.")

    report = ImportReport()
    for offset, cells in enumerate(rows):
        line = offset + 2  # 1-based, after the header
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)}
        errors: dict[str, list[str]] = {}
        if len(cells) > len(columns):
            errors["__all__"] = [f"{len(cells)} cells, but the header has {len(columns)} columns."]
        kwargs = {
            "masking_number": values["masking_number"],
            "party_a": values["party_a"],
            "party_b": values["party_b"],
            "two_way": _boolean(values.get("two_way", ""), "two_way", False, errors),
            "active": _boolean(values.get("active", ""), "active", True, errors),
            "valid_from": _moment(values.get("valid_from", ""), "valid_from", errors),
            "valid_until": _moment(values.get("valid_until", ""), "valid_until", errors),
            "reference": values.get("reference", "").strip(),
        }
        if len(kwargs["reference"]) > 100:
            errors["reference"] = ["At most 100 characters."]
        if not errors:
            try:
                rule = masking_rule_create(**kwargs, created_by=created_by)
            except ValidationError as exc:
                errors = exc.message_dict
            except ApplicationError as exc:
                errors = exc.extra.get("fields") or {"__all__": [exc.message]}
            else:
                report.created.append(rule.pk)
                continue
        report.errors.append(RowError(line=line, errors=errors, values=values))
    return report
