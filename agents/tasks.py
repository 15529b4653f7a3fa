from celery import shared_task

from agents.services import agent_sync


@shared_task(name="agents.sync_agents", ignore_result=True, soft_time_limit=120, time_limit=150)
def sync_agents() -> None:
    """Hourly (beat): pull Smartflo's agent list into the local table."""
    agent_sync()
