"""Settings, the beat schedule, log purging, the sandbox control URL and the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from masking.demo import sandbox_control_url
from masking.models import ResolutionLog
from masking.services import masking_resolution_log_create, masking_resolution_logs_purge
from masking.tasks import purge_resolution_logs


def test_the_beat_schedule_runs_the_masking_tasks():
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    assert schedule["close-expired-masking-sessions"]["task"] == "masking.close_expired_sessions"
    assert schedule["close-expired-masking-sessions"]["schedule"] <= 60
    assert schedule["purge-masking-resolution-logs"]["task"] == "masking.purge_resolution_logs"


def test_the_tasks_are_registered_under_their_beat_names():
    from contactcenter.celery import app

    app.loader.import_default_modules()
    assert {"masking.close_expired_sessions", "masking.purge_resolution_logs"} <= set(app.tasks)


def test_masking_settings_have_defaults():
    assert django_settings.MASKING_COOLOFF_SECONDS >= 0
    assert django_settings.MASKING_SESSION_MAX_TTL_SECONDS > 0
    assert django_settings.MASKING_RESOLUTION_LOG_DAYS > 0


@pytest.mark.django_db
def test_old_resolution_logs_are_purged(settings):
    settings.MASKING_RESOLUTION_LOG_DAYS = 30
    now = timezone.now()
    for age_days in (0, 29, 31, 400):
        masking_resolution_log_create(
            at=now - timedelta(days=age_days),
            method="POST",
            call_id=str(age_days),
            uuid="",
            caller="",
            dialled_number="",
            outcome="no_rule",
            answer=None,
            fallback=False,
            status_code=404,
            rule_id=None,
            latency_ms=1.0,
        )
    assert masking_resolution_logs_purge(batch_size=1) == 2
    assert sorted(ResolutionLog.objects.values_list("call_id", flat=True)) == ["0", "29"]
    assert purge_resolution_logs.delay().get() == 0


@pytest.mark.parametrize(
    ("base_url", "control"),
    [
        ("http://127.0.0.1:8900/v1", "http://127.0.0.1:8900/_control"),
        ("http://localhost:8900/v1/", "http://localhost:8900/_control"),
        ("http://[::1]:8900/v1", "http://[::1]:8900/_control"),
        ("https://api-smartflo.tatateleservices.com/v1", None),
        ("http://10.0.0.5:8900/v1", None),
        ("http://127.0.0.1:8900/v2", None),
        ("", None),
    ],
)
def test_the_sandbox_control_url_is_derived_only_for_loopback(settings, base_url, control):
    settings.SMARTFLO_BASE_URL = base_url
    assert sandbox_control_url() == control


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_masking_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/masking/rules/", "/api/v1/masking/sessions/", "/api/v1/masking/sessions/{id}/close/"} <= set(paths)
