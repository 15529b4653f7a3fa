"""A production install (requirements.txt alone, without requirements-dev.txt) can reach Redis."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[=<>!~; ]", line, maxsplit=1)[0].lower())
    return names


def test_the_redis_transport_and_what_it_imports_are_production_requirements():
    names = requirement_names(ROOT / "requirements.txt")
    # kombu's Redis transport imports `packaging`, which only the `redis` extra (of kombu or
    # celery) or an explicit pin brings: without it workers, beat and /healthz's broker check fail.
    assert names & {"kombu[redis]", "celery[redis]", "packaging"}, sorted(names)
    assert "redis" in names


def test_the_redis_transport_imports():
    import kombu.transport.redis  # noqa: F401
