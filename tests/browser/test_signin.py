"""A new user signs in, lands on the home page, opens the API docs and signs out."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_home_api_docs_and_sign_out(page, live_server, make_user):
    make_user("meera", role="supervisor", password="correct horse battery")

    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url

    page.fill("#id_username", "meera")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text().startswith("Your username and password didn't match")

    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, meera"
    assert "supervisor" in page.locator(".badge").all_inner_texts()
    assert "sandbox" in page.content()

    page.click("text=API documentation")
    page.wait_for_selector("text=/api/v1/me/", timeout=15000)  # Swagger UI rendered from local static files
    assert page.console_errors == []

    page.goto(live_server.url + "/")
    page.click("text=Sign out")
    page.wait_for_url("**/accounts/login/")
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
