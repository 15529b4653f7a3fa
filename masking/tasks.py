"""Periodic masking housekeeping (beat): thin wrappers over services."""

from celery import shared_task

from masking.services import masking_resolution_logs_purge, masking_sessions_expire_due


@shared_task(name="masking.close_expired_sessions", ignore_result=True, soft_time_limit=120, time_limit=150)
def close_expired_sessions() -> int:
    """Every minute: expire sessions past their TTL (they stopped matching already) and start
    their numbers' cool-off. Idempotent: a session is expired once."""
    return masking_sessions_expire_due()


@shared_task(name="masking.purge_resolution_logs", ignore_result=True, soft_time_limit=600, time_limit=660)
def purge_resolution_logs() -> int:
    """Daily: delete resolution log rows older than MASKING_RESOLUTION_LOG_DAYS."""
    return masking_resolution_logs_purge()
