"""Settings of the Celery workers the fault suite kills (tests/proof/faults_support.py): the test
settings, with Redis' visibility timeout short enough that the message of a task whose worker
was killed (acks_late: never acknowledged) is handed out again within the test, not in an hour,
and the sweep that hands such messages out running every second (kombu's default: every 100 s)."""

import os

from tests.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": float(os.environ.get("FAULT_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
