"""The WSGI application: Django's, with the masking resolve endpoint's lane in front
(masking/wsgi.py: Smartflo's usual API Dialplan request answered without Django's request
handling; everything else, and every unusual resolve request, goes to Django)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
django_application = get_wsgi_application()

from masking.wsgi import ResolveLane  # noqa: E402 (needs the apps loaded)

application = ResolveLane(django_application)
