"""The baseline for bench/masking_resolve.py: a minimal Django JSON view.

No middleware, no database, no installed apps; the same URL and the same answer shape as the
resolve endpoint. Served by gunicorn with the same settings as the real app:

    gunicorn --pythonpath bench masking_baseline:application
"""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-baseline-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path

ANSWER = [{"transfer": {"type": "number", "data": ["9876500002"]}}]


def answer(request: HttpRequest) -> JsonResponse:
    return JsonResponse(ANSWER, safe=False)


urlpatterns = [path("api/v1/masking/resolve/", answer)]
application = get_wsgi_application()
