"""`seed_demo`: demo sign-ins linked to the sandbox's agents and a working masking rule, idempotent."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents.models import Agent
from masking.models import MaskingRule

pytestmark = pytest.mark.django_db


def test_refuses_with_debug_off():
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())


def test_seeds_once_and_links_demo_logins():
    call_command("seed_demo", "--force", stdout=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO())
    assert Agent.objects.get(follow_me_number="+919876500001").user.username == "agent"
    assert Agent.objects.get(follow_me_number="+919876500003").user.username == "supervisor"
    assert MaskingRule.objects.count() == 1
    from django.contrib.auth.models import User

    assert User.objects.get(username="agent").check_password("agent")
