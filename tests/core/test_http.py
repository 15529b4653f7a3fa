"""Health check, sign-in, the API's error shape and its OpenAPI schema."""

import re

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert "broker" in body and "ok" in body["broker"]
    assert body["status"] in ("ok", "degraded")


def test_healthz_reports_a_broker_that_is_down(client, settings, monkeypatch):
    from contactcenter.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    body = client.get("/healthz").json()
    assert body["broker"]["ok"] is False
    assert body["status"] == "degraded"  # pages keep working without the broker


def test_pages_need_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_then_home(client):
    User.objects.create_user("asha", password="a-long-passphrase")
    response = client.post("/accounts/login/", {"username": "asha", "password": "a-long-passphrase"})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert b"asha" in page.content


def test_the_sign_in_page_sends_someone_signed_in_on_and_says_as_whom(client):
    client.force_login(User.objects.create_user("asha", password="a-long-passphrase"))
    onward = client.get("/accounts/login/?next=/calls/records/")
    assert (onward.status_code, onward["Location"]) == (302, "/calls/records/")
    page = client.get("/calls/records/").content.decode()
    assert "You are signed in as asha. Sign out first to use another account." in page
    home = client.get("/accounts/login/?next=https://elsewhere.example/")  # never off the site
    assert (home.status_code, home["Location"]) == (302, "/")
    assert client.get("/accounts/login/", {"next": "/"}).status_code == 302
    loop = client.get("/accounts/login/", {"next": "/accounts/login/?x=1"})  # itself: Django's 500, before
    assert (loop.status_code, loop["Location"]) == (302, "/")
    client.logout()
    assert client.get("/accounts/login/").status_code == 200  # signed out: the form


def test_what_a_signed_in_user_sees_is_never_stored_by_the_browser(client):
    """Back must ask again: a stored workspace would show a live call as none, and after sign-out
    the previous user's pages would come back."""
    user = User.objects.create_superuser("boss", password="a-long-passphrase")
    client.force_login(user)
    for path in ("/", "/calls/", "/calls/records/", "/agents/", "/api/v1/call-records/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], path
    assert client.get("/favicon.ico")["Cache-Control"] == "public, max-age=86400"  # it says its own
    client.logout()  # and through the API's token, without a session
    api = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert api.status_code == 200 and "no-store" in api["Cache-Control"]


def test_sign_out_by_get_shows_the_button_and_signs_out_only_by_post():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("asha", password="a-long-passphrase"))
    page = client.get("/accounts/logout/")
    assert page.status_code == 200
    html = page.content.decode()
    form = re.search(r'<form method="post" action="/accounts/logout/">(.*?)</form>', html.split("<main>")[1], re.S)
    assert form and 'name="csrfmiddlewaretoken"' in form.group(1) and ">Sign out</button>" in form.group(1)
    assert client.get("/").status_code == 200  # still signed in

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)
    signed_out = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert (signed_out.status_code, signed_out["Location"]) == (302, "/accounts/login/")
    assert "You have signed out." in client.get("/accounts/login/").content.decode()  # said, once
    assert "You have signed out." not in client.get("/accounts/login/").content.decode()
    assert client.get("/").status_code == 302
    again = client.get("/accounts/logout/")
    assert again.status_code == 200 and 'href="/accounts/login/">Sign in</a>' in again.content.decode()


def test_the_site_has_an_icon_on_its_pages_the_admin_and_at_favicon_ico(client):
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg"), "static/favicon.svg"
    icon = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert icon in client.get("/accounts/login/").content.decode()
    client.force_login(User.objects.create_superuser("root", password="a-long-passphrase"))
    for admin_page in ("/admin/", "/admin/agents/agent/", "/admin/calls/outboundcall/", "/admin/auth/user/add/"):
        assert icon in client.get(admin_page).content.decode(), admin_page
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/favicon.svg")


def test_api_needs_authentication_with_the_error_shape(client):
    response = client.get("/api/v1/me/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["message"]
    assert body["extra"] == {}


def test_token_authentication(client):
    user = User.objects.create_user("api-client")
    token = Token.objects.create(user=user)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["username"] == "api-client"


def test_bad_token_is_refused_with_the_error_shape(client):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_roles_come_from_groups_and_superuser(client):
    from django.contrib.auth.models import Group

    user = User.objects.create_user("sup", password="x")
    user.groups.add(Group.objects.get(name="Supervisors"))
    client.force_login(user)
    assert client.get("/api/v1/me/").json()["roles"] == ["supervisor"]
    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    assert "supervisor" in client.get("/api/v1/me/").json()["roles"]


def test_openapi_schema_and_docs(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/vendor/swagger-ui" in docs.content  # served locally, not from a CDN


def test_the_api_index_names_every_collection_and_the_docs(client):
    from django.urls import URLPattern, URLResolver, get_resolver

    response = client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["docs"] == "http://testserver/api/docs/" and body["schema"] == "http://testserver/api/schema/"
    listed = {url.removeprefix("http://testserver") for url in body["endpoints"].values()}

    def routes(patterns, prefix=""):  # every /api/v1/ route without a parameter, as the URLconf has it
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from routes(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and "<" not in route and route.endswith("/"):
                yield "/" + route

    expected = {route for route in routes(get_resolver().url_patterns) if route.startswith("/api/v1/")}
    assert listed == expected - {"/api/v1/"}
    assert client.get("/api/v1/me/").status_code in (401, 403)  # the index opens nothing
    browsed = client.get("/api/v1/", HTTP_ACCEPT="text/html").content.decode()  # DRF's browsable page
    assert "<h1>Contact center API</h1>" in browsed and "Api Root Api" not in browsed
    assert "Each endpoint asks for its own" in browsed and "`/api/v1/`" not in browsed


def test_unknown_api_paths_answer_json_404(client):
    response = client.get("/api/v1/nope/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_opening_the_address_of_a_button_shows_a_page_saying_so(client, caplog):
    client.force_login(User.objects.create_superuser("boss", password="a-long-passphrase"))
    for path in ("/calls/place/", "/agents/sync/", "/calls/live/1715235734.1/hangup/"):
        response = client.get(path)
        assert response.status_code == 405 and response["Allow"] == "POST", path
        html = response.content.decode()
        assert "<h1>Not a page to open</h1>" in html and "it acts when its form is sent" in html, path
        assert 'href="/">Back to the home page</a>' in html
    caplog.clear()
    with caplog.at_level("WARNING", logger="django.request"):
        client.get("/calls/live/x%0AERROR%20forged/hangup/")
    (logged,) = [r for r in caplog.records if r.name == "django.request"]  # once, not again by Django
    assert "\n" not in logged.getMessage() and "x\\nERROR forged" in logged.getMessage()
    posted = client.post("/calls/records/")  # a page that only opens
    assert posted.status_code == 405 and posted["Allow"] == "GET"
    assert "This address cannot take what was sent to it." in posted.content.decode()


def test_pages_403_says_why_with_a_way_back(client):
    from django.contrib.auth.models import Group

    user = User.objects.create_user("ag", password="x")
    user.groups.add(Group.objects.get_or_create(name="Agents")[0])
    client.force_login(user)
    response = client.get("/agents/")
    assert response.status_code == 403
    assert b"Only supervisors can open this page." in response.content
    assert b"Back to the home page" in response.content


def test_roles_are_read_once_per_request(client, django_assert_num_queries):
    from django.contrib.auth.models import Group

    from contactcenter.core.roles import is_supervisor, user_roles

    user = User.objects.create_user("s2", password="x")
    user.groups.add(Group.objects.get_or_create(name="Supervisors")[0])
    with django_assert_num_queries(1):
        assert user_roles(user) == ["supervisor"]
        assert is_supervisor(user)
        assert user_roles(user) == ["supervisor"]


@pytest.fixture
def debug_urls(settings):
    """contactcenter/urls.py as `make dev` loads it: DEBUG on."""
    import importlib

    from django.urls import clear_url_caches

    import contactcenter.urls

    settings.DEBUG = True
    importlib.reload(contactcenter.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(contactcenter.urls)
    clear_url_caches()


def test_with_debug_on_unknown_api_addresses_still_answer_json(client, debug_urls):
    """`make dev` is where integrators start: Django's debug 404 page (HTML, listing every URL
    pattern) answered them there."""
    client.force_login(User.objects.create_superuser("boss", password="a-long-passphrase"))
    for path in ("/api/v1/nope/", "/api/v1/masking/rules/abc/", "/api/v2/"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found", path
    moved = client.get("/api/v1/agents?page=1")  # the final slash missing: as APPEND_SLASH does
    assert (moved.status_code, moved["Location"]) == (301, "/api/v1/agents/?page=1")
    posted = client.post("/api/v1/agents", {}, content_type="application/json")  # a redirect would lose the body
    assert posted.status_code == 404
    assert posted.json()["message"] == "No such API endpoint: /api/v1/agents/ (with the final slash) is one."
    assert client.get("/api/v1/agents/").status_code == 200  # the endpoints themselves are untouched
