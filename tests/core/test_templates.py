"""Template source rules that Django does not enforce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_comments_close_on_the_line_they_open(template):
    """`{# ... #}` is a one-line comment: spread over lines, Django prints it on the page (a
    multi-line note belongs in `{% comment %}`)."""
    unclosed = [
        number for number, line in enumerate(template.read_text().splitlines(), 1) if re.search(r"\{#(?!.*#\})", line)
    ]
    assert unclosed == [], f"{template.name}: '{{#' without '#}}' on lines {unclosed}"


@pytest.mark.django_db
def test_no_template_syntax_shows_on_the_pages(client):
    client.force_login(User.objects.create_superuser("boss", password="a-long-passphrase"))
    for path in ("/", "/calls/", "/calls/records/", "/calls/live/", "/agents/", "/otp/"):
        html = client.get(path).content.decode()
        assert "{#" not in html and "#}" not in html and "{%" not in html, path
