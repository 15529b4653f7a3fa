"""Concurrent session creation against a real, transactional database.

Every thread first takes the same pool snapshot (a barrier holds them until all have it), so all
of them start from the same stale idea of which numbers are free: only the re-check under the
number's row lock, and the one-active-session-per-pair constraint, keep the answers right. On
PostgreSQL the threads really run at once (row locks); on SQLite writers take turns (IMMEDIATE
transactions), and the same assertions hold.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from contactcenter.core.exceptions import ApplicationError
from masking import services
from masking.models import MaskingRule, MaskingSession
from masking.services import masking_number_create, masking_session_create
from tests.masking.conftest import A, B

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


@pytest.fixture
def stale_snapshots(monkeypatch):
    """Make every thread compute its candidate list before any of them allocates."""
    from masking.services import sessions

    barrier = threading.Barrier(THREADS, timeout=15)
    seen = threading.local()
    real = sessions.masking_pool_candidates

    def candidates(**kwargs: Any) -> list[int]:
        result = real(**kwargs)
        if not getattr(seen, "waited", False):
            seen.waited = True
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return result

    monkeypatch.setattr(sessions, "masking_pool_candidates", candidates)
    return barrier


def run_at_once(work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(i: int) -> None:
        try:
            value = work(i)
            with lock:
                results.append(value)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def assert_no_number_joins_a_party_to_two_people() -> None:
    partners: dict[tuple[int, str], set[str]] = {}
    for rule in MaskingRule.objects.filter(active=True):
        partners.setdefault((rule.masking_number_id, rule.party_a), set()).add(rule.party_b)
        partners.setdefault((rule.masking_number_id, rule.party_b), set()).add(rule.party_a)
    assert all(len(others) == 1 for others in partners.values()), partners


def pool_of(size: int) -> list[int]:
    return [masking_number_create(number=f"+9180690005{i:02d}", pooled=True).pk for i in range(size)]


def test_overlapping_parties_never_get_the_same_number(stale_snapshots):
    pool = pool_of(5)

    def work(i: int) -> int:
        session, _ = masking_session_create(party_a=A, party_b=f"+9198770000{i:02d}", ttl_seconds=600)
        return session.masking_number_id

    numbers, errors = run_at_once(work)
    assert len(numbers) == 5  # one per pool number...
    assert len(set(numbers)) == 5  # ...each a different one
    assert set(numbers) == set(pool)
    assert len(errors) == THREADS - 5
    assert all(isinstance(e, ApplicationError) and e.code == "no_number_available" for e in errors), errors
    assert_no_number_joins_a_party_to_two_people()


def test_the_same_pair_at_once_gets_one_session(stale_snapshots):
    pool_of(3)

    def work(i: int) -> int:
        a, b = (A, B) if i % 2 else (B, A)
        session, _ = masking_session_create(party_a=a, party_b=b, ttl_seconds=600)
        return session.pk

    ids, errors = run_at_once(work)
    assert errors == []
    assert len(set(ids)) == 1
    assert MaskingSession.objects.filter(status="active").count() == 1
    assert MaskingRule.objects.filter(active=True).count() == 1  # losers' rules rolled back


def test_disjoint_pairs_at_once_all_share_one_number(stale_snapshots):
    (only,) = pool_of(1)

    def work(i: int) -> int:
        session, _ = masking_session_create(
            party_a=f"+9198450000{i:02d}", party_b=f"+9198770000{i:02d}", ttl_seconds=600
        )
        return session.masking_number_id

    numbers, errors = run_at_once(work)
    assert errors == []
    assert numbers == [only] * THREADS
    assert_no_number_joins_a_party_to_two_people()


def test_a_ring_of_overlapping_pairs(stale_snapshots):
    """Pairs (p0,p1), (p1,p2) ... (p7,p0): every party is in two sessions, on two numbers."""
    pool_of(4)
    people = [f"+9198450001{i:02d}" for i in range(THREADS)]

    def work(i: int) -> int:
        session, _ = masking_session_create(party_a=people[i], party_b=people[(i + 1) % THREADS], ttl_seconds=600)
        return session.masking_number_id

    _, errors = run_at_once(work)
    assert errors == []  # 4 numbers are enough: alternate pairs can share
    assert_no_number_joins_a_party_to_two_people()
    per_party = Counter()
    for rule in MaskingRule.objects.filter(active=True):
        per_party[(rule.masking_number_id, rule.party_a)] += 1
        per_party[(rule.masking_number_id, rule.party_b)] += 1
    assert max(per_party.values()) == 1


def test_concurrent_rule_creation_for_one_caller_keeps_one(db):
    masking_number_create(number="+918069000111")

    def work(i: int) -> int:
        return services.masking_rule_create(masking_number="+918069000111", party_a=A, party_b=f"+9198770000{i:02d}").pk

    created, errors = run_at_once(work)
    assert len(created) == 1
    assert all(isinstance(e, ApplicationError) and e.code == "rule_conflict" for e in errors), errors
    assert MaskingRule.objects.filter(active=True).count() == 1


def test_a_number_added_while_a_rule_that_dials_it_opens_is_never_both(monkeypatch):
    """A masking number added at the moment a rule transferring calls to it is opened: each passes
    its own check unless the two are serialised per number (then the second sees the first)."""
    from django.core.exceptions import ValidationError
    from django.db import connection

    from masking.services import rules

    checked, release = threading.Event(), threading.Event()
    real = rules._refuse_if_dialled

    def paused(number: str, field: str) -> None:
        real(number, field)
        if field == "number" and connection.in_atomic_block:  # the number's own check passed: hold on
            checked.set()
            release.wait(1.5)

    monkeypatch.setattr(rules, "_refuse_if_dialled", paused)
    outcomes: dict[str, str] = {}

    def add_number() -> None:
        try:
            masking_number_create(number=B)
            outcomes["number"] = "added"
        except ValidationError:
            outcomes["number"] = "refused"
        finally:
            connections.close_all()

    def open_rule() -> None:
        checked.wait(5)
        try:
            services.masking_rule_create(masking_number="+918069000999", party_a=A, party_b=B)
            outcomes["rule"] = "opened"
        except (ApplicationError, ValidationError):
            outcomes["rule"] = "refused"
        finally:
            release.set()
            connections.close_all()

    threads = [threading.Thread(target=add_number), threading.Thread(target=open_rule)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["added", "refused"], outcomes  # never a rule dialling a masking number
