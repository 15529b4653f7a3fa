"""The PostgreSQL backend's health check (contactcenter/db/postgresql): no round trip while the
connection is sound, and a connection the server dropped is noticed and replaced."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from tests.needs import skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")


def test_settings_use_the_project_backend_for_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "contactcenter.db.postgresql"
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_a_sound_idle_connection_is_usable_without_a_query(monkeypatch):
    connection.ensure_connection()
    sent = []
    monkeypatch.setattr(DjangoWrapper, "is_usable", lambda self: sent.append("SELECT 1") or True)  # runs a query
    assert connection.is_usable() is True
    assert sent == []


def test_a_connection_the_server_terminated_is_replaced_before_the_next_query():
    import psycopg

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        old_pid = cursor.fetchone()[0]

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)  # the termination notice reaches the socket
    assert connection.is_usable() is False

    # What Django does at the start of each request: the next query gets a new connection.
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]
    assert new_pid != old_pid


def test_inside_a_transaction_it_falls_back_to_djangos_query(monkeypatch):
    from django.db import transaction

    sent = []
    monkeypatch.setattr(DjangoWrapper, "is_usable", lambda self: sent.append("SELECT 1") or True)
    with transaction.atomic():
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.is_usable() is True
    assert sent == ["SELECT 1"]


def test_a_connection_not_fully_checked_for_a_while_gets_djangos_query(monkeypatch):
    """A peer that vanished silently leaves nothing to read: only a round trip finds out, so the
    poll alone is trusted for FULL_CHECK_SECONDS after a full check, not longer."""
    from contactcenter.db.postgresql import base as backend

    connection.ensure_connection()
    sent = []
    monkeypatch.setattr(DjangoWrapper, "is_usable", lambda self: sent.append("SELECT 1") or True)
    assert connection.is_usable() is True and sent == []  # just connected: the poll suffices

    clock = [backend.time.monotonic() + backend.FULL_CHECK_SECONDS + 1]
    monkeypatch.setattr(backend.time, "monotonic", lambda: clock[0])
    assert connection.is_usable() is True
    assert sent == ["SELECT 1"]
    assert connection.is_usable() is True and sent == ["SELECT 1"]  # fully checked again just now
