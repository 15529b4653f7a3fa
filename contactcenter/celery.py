"""The Celery application, configured from Django settings (the CELERY_* names)."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")

app = Celery("contactcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def redact_worker_logs(logger: logging.Logger, **kwargs) -> None:
    """A worker (and beat) replaces the root logger's handlers with its own (stderr, or the file of
    `-f`): give them the redacting filter that settings.LOGGING puts on every handler."""
    from contactcenter.core.logging import RedactingFilter

    for handler in logger.handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
