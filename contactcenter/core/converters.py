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
