"""The home page greets the person by name, not by their sign-in."""

import pytest
from django.contrib.auth.models import User

from agents.models import Agent
from tests.conftest import login

pytestmark = pytest.mark.django_db


def greeting(user) -> str:
    html = login(user).get("/").content.decode()
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_home_greets_by_full_name():
    user = User.objects.create_user("agent", first_name="Asha", last_name="Rao")
    assert greeting(user) == "Welcome, Asha Rao"


def test_home_greets_an_agent_without_a_full_name_by_their_agent_name():
    user = User.objects.create_user("agent")
    Agent.objects.create(name="Vikram Singh", user=user)
    assert greeting(user) == "Welcome, Vikram Singh"


def test_home_falls_back_to_the_username():
    assert greeting(User.objects.create_user("meera")) == "Welcome, meera"
    user = User.objects.create_user("blank")
    Agent.objects.create(name="  ", user=user)  # a blank agent name is no name
    assert greeting(user) == "Welcome, blank"
