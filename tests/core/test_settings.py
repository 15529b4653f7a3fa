"""Settings refuse an unsafe production start and pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Drop what tests/settings.py put in this process's environment.
    dropped = (
        "SECRET_KEY",
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "SECURE_SSL_REDIRECT",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "SMARTFLO_BASE_URL",
        "SMARTFLO_API_TOKEN",
        "OTP_LEAD_ID",
        "OTP_C2C_API_KEY",
    )
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update({"DJANGO_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "contactcenter.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_debug_off_without_secret_key_refuses_to_start_and_names_it():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_like_values_pass_check_deploy_at_warning_level():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="cc.example.com",
        SMARTFLO_BASE_URL="https://api-smartflo.tatateleservices.com/v1",
        SMARTFLO_API_TOKEN="Bearer prod-token",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_smartflo_settings_refuses_to_start():
    result = run_manage("check", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode != 0
    assert "SMARTFLO_BASE_URL" in result.stderr


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "cc.example.com",
    "SMARTFLO_BASE_URL": "https://api-smartflo.tatateleservices.com/v1",
    "SMARTFLO_API_TOKEN": "Bearer prod-token",
}
PRINT_OTP = "from django.conf import settings; print(repr((settings.OTP_LEAD_ID, settings.OTP_C2C_API_KEY)))"


def test_debug_off_without_otp_settings_starts_with_otp_off_not_on_sandbox_values():
    result = run_manage("shell", "-c", PRINT_OTP, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "('', '')"


@pytest.mark.parametrize(("given", "missing"), [("OTP_LEAD_ID", "OTP_C2C_API_KEY"), ("OTP_C2C_API_KEY", "OTP_LEAD_ID")])
def test_debug_off_with_half_the_otp_settings_refuses_to_start_and_names_the_other(given, missing):
    result = run_manage("check", **PRODUCTION, **{given: "12345"})
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize("sandbox_value", [{"OTP_LEAD_ID": "sandbox-lead"}, {"OTP_C2C_API_KEY": "sandbox-c2c-key"}])
def test_debug_off_refuses_the_sandboxs_otp_values_against_a_real_smartflo(sandbox_value):
    values = {"OTP_LEAD_ID": "412", "OTP_C2C_API_KEY": "real-key", **sandbox_value}
    result = run_manage("check", **PRODUCTION, **values)
    assert result.returncode != 0
    assert "sandbox" in result.stderr and "OTP_LEAD_ID" in result.stderr


def test_debug_off_accepts_the_sandboxs_otp_values_against_the_local_sandbox():
    local = {**PRODUCTION, "SMARTFLO_BASE_URL": "http://127.0.0.1:8911/v1", "SMARTFLO_API_TOKEN": "sandbox-token"}
    result = run_manage(
        "shell", "-c", PRINT_OTP, **local, OTP_LEAD_ID="sandbox-lead", OTP_C2C_API_KEY="sandbox-c2c-key"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "('sandbox-lead', 'sandbox-c2c-key')"


def test_debug_off_with_real_otp_settings_passes_check_deploy():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, OTP_LEAD_ID="412", OTP_C2C_API_KEY="real-key"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_on_keeps_the_sandboxs_otp_values_as_defaults():
    result = run_manage("shell", "-c", PRINT_OTP, DEBUG="1")
    assert result.stdout.strip().splitlines()[-1] == "('sandbox-lead', 'sandbox-c2c-key')"


def test_debug_on_runs_without_secret_key():
    result = run_manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_time_zone_and_aware_datetimes(settings):
    assert settings.TIME_ZONE == "Asia/Kolkata"
    assert settings.USE_TZ is True


def test_celery_is_json_only_with_time_limits(settings):
    from contactcenter.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_without_a_broker_url_the_embedded_filesystem_broker_is_used():
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    clean.update({"DJANGO_ENV_FILE": os.devnull, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "contactcenter.settings"})
    code = "from contactcenter.celery import app; print(app.conf.broker_url)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.stdout.strip() == "filesystem://", result.stderr


def test_the_embedded_broker_keeps_its_files_under_var_not_the_working_directory(tmp_path):
    """kombu's file-system transport writes its exchange table to ./control/ unless told where:
    `make dev` left a stray control/ folder in the checkout."""
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    clean.update(
        {
            "DJANGO_ENV_FILE": os.devnull,
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "contactcenter.settings",
            "PYTHONPATH": str(ROOT),
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
    )
    code = (
        "import django; django.setup()\n"
        "from contactcenter.celery import app\n"
        "app.send_task('core.smartflo_ping', queue='test-stray-files')\n"
        "print(app.conf.broker_transport_options['control_folder'])"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("var/broker/control")
    assert list(tmp_path.iterdir()) == []  # nothing written where the process was started
