from __future__ import annotations


def sign_in(page, live_server, username: str, password: str = "a-long-passphrase") -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/")
