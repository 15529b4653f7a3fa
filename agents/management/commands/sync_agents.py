from django.core.management.base import BaseCommand, CommandError

from agents.services import agent_sync
from contactcenter.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Pull Smartflo's agent list (GET /agents) into the local agents table."

    def handle(self, *args, **options):
        self.stdout.write("Fetching agents from Smartflo...")
        try:
            result = agent_sync()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Agents synced: {result}."))
