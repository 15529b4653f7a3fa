"""Operational tasks."""

import logging

from celery import shared_task

from contactcenter.core.services import personal_data_purge_expired
from contactcenter.smartflo import SmartfloError, client_from_settings

logger = logging.getLogger(__name__)


@shared_task(name="core.smartflo_ping", ignore_result=True)
def smartflo_ping() -> None:
    """Prove that a worker reaches Smartflo with the configured URL and token (GET /agents).

    Run it after deploying or rotating the token: `celery -A contactcenter call core.smartflo_ping`,
    then read the worker's log.
    """
    with client_from_settings() as client:
        try:
            agents = client.list_agents()
        except SmartfloError as exc:
            logger.error("smartflo ping failed: %s", exc)
            raise
    logger.info("smartflo ping ok: %d agents visible", len(agents))


@shared_task(name="core.purge_expired_personal_data", ignore_result=True, soft_time_limit=1800, time_limit=1860)
def purge_expired_personal_data() -> dict[str, int]:
    """Daily (beat): delete rows past their retention settings and expired sign-in sessions.

    Batches commit one by one, so a run stopped by its time limit keeps what it deleted and the
    next day's run goes on from there.
    """
    return personal_data_purge_expired()
