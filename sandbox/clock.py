"""Time helpers. Smartflo speaks naive IST (Asia/Kolkata, UTC+05:30, no DST) everywhere.

IST is a fixed offset, so it is computed arithmetically: the machine's TZ and tzdata never matter.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30), "IST")
IST_OFFSET_SECONDS = 5 * 3600 + 30 * 60
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
_STAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def now() -> float:
    """Wall-clock epoch seconds."""
    return time.time()


@functools.lru_cache(maxsize=4096)
def _ist_date(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))


def stamp(epoch: float) -> str:
    """`YYYY-MM-DD HH:MM:SS` in naive IST (arithmetic, not strftime: bulk generation is hot)."""
    day, second = divmod(int(epoch) + IST_OFFSET_SECONDS, 86400)
    return f"{_ist_date(day)} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"


def date_and_time(epoch: float) -> tuple[str, str]:
    """(`YYYY-MM-DD`, `HH:MM:SS`) in naive IST."""
    text = stamp(epoch)
    return text[:10], text[11:]


def parse_stamp(text: str) -> int:
    """Epoch seconds of a naive-IST `YYYY-MM-DD HH:MM:SS`; ValueError on any other format."""
    if not isinstance(text, str) or not _STAMP_RE.fullmatch(text.strip()):
        raise ValueError(f"expected YYYY-MM-DD HH:MM:SS, got {text!r}")
    parsed = datetime.strptime(text.strip(), STAMP_FORMAT).replace(tzinfo=IST)
    return int(parsed.timestamp())


def to_epoch(value: str | datetime | float) -> int:
    """Epoch seconds of a naive-IST stamp, a datetime (naive = IST) or a number."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=IST)
        return int(value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return parse_stamp(str(value))


def whole_seconds(seconds: float) -> int:
    """Provider durations are whole seconds; anything that lasted at all lasted at least 1 s."""
    return max(1, round(seconds)) if seconds > 0 else 0
