"""API routes of this app, mounted under /api/v1/ by contactcenter/urls.py."""

urlpatterns: list = []
