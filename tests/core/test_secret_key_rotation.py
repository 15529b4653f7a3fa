"""SECRET_KEY rotates without signing everyone out while the old key is in SECRET_KEY_FALLBACKS."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.core.test_settings import run_manage

pytestmark = pytest.mark.django_db

OLD_KEY = "old-secret-key-" + "o" * 40
NEW_KEY = "new-secret-key-" + "n" * 40


@pytest.fixture
def signed_in_with_the_old_key(settings, make_user) -> Client:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    client = Client()
    client.force_login(make_user("sup", role="supervisor"))
    assert client.get("/").status_code == 200
    return client


def test_a_session_signed_with_the_old_key_still_works_with_the_old_key_as_fallback(
    settings, signed_in_with_the_old_key
):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert signed_in_with_the_old_key.get("/").status_code == 200

    # That request re-signed the session with the new key: it outlives the fallback.
    settings.SECRET_KEY_FALLBACKS = []
    assert signed_in_with_the_old_key.get("/").status_code == 200


def test_without_the_fallback_the_rotation_signs_the_session_out(settings, signed_in_with_the_old_key):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []
    response = signed_in_with_the_old_key.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_secret_key_fallbacks_come_from_the_environment_as_a_comma_list():
    code = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    result = run_manage("shell", "-c", code, DEBUG="1", SECRET_KEY_FALLBACKS="older-key-one,older-key-two")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['older-key-one', 'older-key-two']"
    unset = run_manage("shell", "-c", code, DEBUG="1")
    assert unset.stdout.strip().splitlines()[-1] == "[]"
