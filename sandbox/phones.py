"""Phone number forms the provider accepts.

Smartflo takes Indian numbers as 10 digits, `+91XXXXXXXXXX`, `91XXXXXXXXXX` or `0XXXXXXXXXX`,
with spaces and dashes tolerated; customer numbers may be 10 to 15 digits once the prefix is gone.
Internally the sandbox keeps the *national* digits (10 digits for India).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"[0-9]+")


def _clean(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        return None
    return _SEPARATORS.sub("", value.strip())


def national(value: object, *, max_digits: int = 15) -> str | None:
    """The number without `+91`/`91`/`0` prefix, if it has 10..max_digits digits; else None."""
    text = _clean(value)
    if not text:
        return None
    international = text.startswith("+")
    if international:
        text = text[1:]
    if not _DIGITS.fullmatch(text):
        return None
    if len(text) == 12 and text.startswith("91"):
        text = text[2:]
    elif not international and len(text) == 11 and text.startswith("0"):
        text = text[1:]
    if 10 <= len(text) <= max_digits:
        return text
    return None


def mobile(value: object) -> str | None:
    """A 10-digit Indian number in any accepted form, as 10 digits; else None."""
    return national(value, max_digits=10)


def customer(value: object) -> str | None:
    """A customer number (10 to 15 digits after the prefix), as digits; else None."""
    return national(value, max_digits=15)


def strict_ten_digits(value: object) -> str | None:
    """Exactly 10 digits (a string or an int, no prefix or separators), as the lead, c2c and
    API Dialplan answers demand; else None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    if len(text) == 10 and _DIGITS.fullmatch(text):
        return text
    return None


def e164(number: str) -> str:
    """`+91XXXXXXXXXX` for a 10-digit national number, `+<digits>` otherwise."""
    return f"+91{number}" if len(number) == 10 else f"+{number}"


def dashed(number: str) -> str:
    """`+91-XXXXXXXXXX`: the form API Dialplan uses for `call_to_number`."""
    return f"+91-{number}" if len(number) == 10 else f"+{number}"
