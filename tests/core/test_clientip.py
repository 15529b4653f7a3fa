"""The sign-in lock-out sees the client's address behind TRUSTED_PROXY_COUNT proxies, and only
believes the part of X-Forwarded-For that our proxies wrote."""

from __future__ import annotations

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from contactcenter.core.clientip import client_ip

PROXY = "10.0.0.5"


def request_from(remote: str = PROXY, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/accounts/login/", **extra)


def test_without_trusted_proxies_the_address_is_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from(forwarded="203.0.113.7")) == PROXY


def test_behind_one_proxy_the_address_is_the_last_forwarded_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(forwarded="203.0.113.7")) == "203.0.113.7"
    # What the client wrote itself (left of what nginx appended) is not believed.
    assert client_ip(request_from(forwarded="198.51.100.1, 203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_address_is_the_second_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from(forwarded="198.51.100.1, 203.0.113.7, 10.0.0.9")) == "203.0.113.7"
    assert client_ip(request_from(forwarded="2001:db8::1, 10.0.0.9")) == "2001:db8::1"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address", " , "])
def test_a_missing_short_or_garbled_header_falls_back_to_remote_addr(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(forwarded=forwarded)) == PROXY


def test_axes_uses_it(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(request_from(forwarded="203.0.113.7")) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert get_client_ip_address(request_from(forwarded="203.0.113.7")) == PROXY


@pytest.mark.django_db
def test_behind_the_proxy_a_lockout_is_per_client_not_for_everyone(settings, make_user):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 2
    make_user("asha", password="the-right-passphrase")

    def sign_in(password: str, client_address: str) -> int:
        return (
            Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)
            .post("/accounts/login/", {"username": "asha", "password": password})
            .status_code
        )

    for _ in range(2):
        sign_in("wrong", "203.0.113.66")  # someone guessing from one address
    assert sign_in("the-right-passphrase", "203.0.113.66") == 429  # locked out there
    assert sign_in("the-right-passphrase", "198.51.100.20") == 302  # asha, elsewhere, signs in
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}
