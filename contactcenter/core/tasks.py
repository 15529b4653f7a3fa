"""Operational tasks."""

import logging

from celery import shared_task

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
