"""`<id:pk>` in URLs: a row id, 1 to 18 digits. Django's `<int:>` takes any number of digits, and
a 25-digit id in an address reached the database as a 500 (too large for its integers): here it
does not match, so the address is a 404 like any other that names nothing."""

from __future__ import annotations

#: The largest id the databases store (a signed 64-bit integer): an API field taking an id is
#: bounded by it, so a larger one is bad input (400), never a 500 from the database.
MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(value)


def ascii_int(text: str, *, maximum: int = MAX_ID) -> int | None:
    """`text` as a whole number from 0 to `maximum`, or None. Only ASCII digits count: `str.isdigit`
    is true for "²" and "①", which `int()` then refuses with a ValueError (a 500 where it was
    trusted), and a run of digits longer than any column holds overflows the database."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None
