"""A supervisor signs in, adds an agent through the form and sees it in the list."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_adds_an_agent(page, live_server, make_user, smartflo):
    make_user("meera", role="supervisor", password="correct horse battery")
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "meera")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    page.click("nav >> text=Agents")
    page.click("a:has-text('Add agent')")
    page.fill("#id_name", "Kiran Patel")
    page.fill("#id_follow_me_number", "12345")
    page.click("main button[type=submit]")
    assert "10-digit" in page.locator('[data-field="follow_me_number"]').inner_text()

    page.fill("#id_follow_me_number", "098765 00042")
    page.fill("#id_intercom", "4242")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/agents/")
    assert "Agent Kiran Patel added in Smartflo" in page.locator(".messages").inner_text()
    row = page.locator("tr", has_text="Kiran Patel")
    assert "+919876500042" in row.inner_text()
    assert "4242" in row.inner_text()
    assert len(smartflo.requests(path="/v1/agent")) == 1
