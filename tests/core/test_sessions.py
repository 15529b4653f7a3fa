"""The session store (contactcenter/core/sessions.py) reads what Django's database store reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def stored(data: dict, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    session = db.SessionStore()
    session.update(data)
    session.save()
    Session.objects.filter(session_key=session.session_key).update(expire_date=timezone.now() + expires_in)
    return session.session_key


def loaded(store_class, key: str | None) -> tuple[dict, str | None]:
    store = store_class(key)
    return dict(store.items()), store.session_key


def test_a_live_session_loads_in_one_query_as_djangos_store_loads_it():
    key = stored({"_auth_user_id": "7", "note": "ünïcode"})
    with CaptureQueriesContext(connection) as captured:
        ours = loaded(SessionStore, key)
    assert len(captured) == 1
    assert ours == loaded(db.SessionStore, key) == ({"_auth_user_id": "7", "note": "ünïcode"}, key)


@pytest.mark.parametrize("key", ["expired", "unknown", "tampered", None])
def test_expired_unknown_or_tampered_sessions_load_empty_and_lose_their_key(key):
    if key == "expired":
        key = stored({"_auth_user_id": "7"}, expires_in=-timedelta(seconds=1))
    elif key == "unknown":
        key = "x" * 32
    elif key == "tampered":
        key = stored({"_auth_user_id": "7"})
        Session.objects.filter(session_key=key).update(session_data="not-signed-data")
    expected = loaded(db.SessionStore, key)
    ours = loaded(SessionStore, key)
    assert ours == expected
    assert ours[0] == {}


def test_a_signed_in_page_works_with_it(supervisor_client, settings):
    assert settings.SESSION_ENGINE == "contactcenter.core.sessions"
    assert supervisor_client.get("/calls/records/").status_code == 200
