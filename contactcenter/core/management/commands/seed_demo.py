"""Demo data for `make dev`: sign-ins for each role. Safe to run again: it changes nothing twice."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from contactcenter.core.roles import AGENTS_GROUP, SUPERVISORS_GROUP

# The sandbox's built-in agents (python -m sandbox): the demo sign-ins are linked to them, so the
# agent can dial and the supervisor can monitor. A sync from Smartflo links their Smartflo ids.
DEMO_AGENTS = (
    # name, follow-me number, intercom, linked username
    ("Asha Rao", "+919876500001", "1001", "agent"),
    ("Vikram Singh", "+919876500002", "1002", None),
    ("Meera Iyer", "+919876500003", "1003", "supervisor"),
)
# A masking number with a two-way rule, so the admin's "simulate a masked call" works at once.
DEMO_MASKING = {"masking_number": "+918069000100", "party_a": "+919812300001", "party_b": "+919812300002"}
DEMO_USERS = (
    # username, password, superuser, group
    ("admin", "admin", True, None),
    ("supervisor", "supervisor", False, SUPERVISORS_GROUP),
    ("agent", "agent", False, AGENTS_GROUP),
)


class Command(BaseCommand):
    help = (
        "Create demo sign-ins (admin, supervisor, agent) and the sandbox's agents, linked to them. "
        "Refuses to run with DEBUG off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off (never in production)")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates well-known passwords: it runs only with DEBUG=1 (or --force).")
        User = get_user_model()
        for username, password, superuser, group_name in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": superuser, "is_superuser": superuser}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            if group_name:
                user.groups.add(Group.objects.get_or_create(name=group_name)[0])
            state = "created" if created else "exists"
            self.stdout.write(f"  {username:<11} password {password:<11} ({state})")
        from agents.models import Agent

        for name, number, intercom, username in DEMO_AGENTS:
            agent, _ = Agent.objects.get_or_create(
                follow_me_number=number, defaults={"name": name, "intercom": intercom}
            )
            if username and agent.user is None:
                agent.user = User.objects.get(username=username)
                agent.save(update_fields=["user"])
        self._seed_masking()

    def _seed_masking(self) -> None:
        from masking.models import MaskingRule
        from masking.services.rules import masking_rule_create

        if not MaskingRule.objects.filter(masking_number_id=DEMO_MASKING["masking_number"]).exists():
            masking_rule_create(**DEMO_MASKING, two_way=True, reference="demo")
        self.stdout.write(
            f"  masking demo: {DEMO_MASKING['party_a']} dialling {DEMO_MASKING['masking_number']} reaches "
            f"{DEMO_MASKING['party_b']} (and back)"
        )
