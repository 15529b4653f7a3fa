"""The header's links (contactcenter/core/context_processors.py::navigation), reversed once per
script prefix: right at the root and under a prefix, whichever comes first."""

from __future__ import annotations

import re

import pytest
from django.urls import set_script_prefix

from contactcenter.core import context_processors

pytestmark = pytest.mark.django_db


def links(response) -> dict[str, str]:
    html = response.content.decode()
    header = html[html.index('<header class="topbar">') : html.index("</header>")]
    found = {label: href for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', header)}
    found["Sign out"] = re.search(r'<form method="post" action="([^"]+)" class="signout"', header)[1]
    return found


def test_links_under_a_script_prefix_and_at_the_root(supervisor_client, monkeypatch):
    monkeypatch.setattr(context_processors, "_reversed", {})
    try:
        set_script_prefix("/cc/")  # what the WSGI handler does with SCRIPT_NAME (the test client does not)
        prefixed = links(supervisor_client.get("/calls/records/"))
    finally:
        set_script_prefix("/")
    root = links(supervisor_client.get("/calls/records/"))

    assert root == {
        "Home": "/",
        "Calls": "/calls/",
        "Records": "/calls/records/",
        "Live calls": "/calls/live/",
        "Agents": "/agents/",
        "OTP calls": "/otp/",
        "API": "/api/docs/",
        "Sign out": "/accounts/logout/",
    }
    for label in ("Calls", "Records", "Live calls", "Agents", "OTP calls", "Sign out"):
        assert prefixed[label] == "/cc" + root[label], label
    # a page is called what its link says
    for label in ("Live calls", "Agents", "OTP calls"):
        assert f"<h1>{label}</h1>" in supervisor_client.get(root[label]).content.decode(), label


def test_an_agent_polls_for_incoming_calls(asha):
    from tests.conftest import login

    html = login(asha.user).get("/").content.decode()
    assert 'hx-get="/calls/alerts/"' in html
