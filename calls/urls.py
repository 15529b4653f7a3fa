"""Page routes of this app, mounted under /calls/ by contactcenter/urls.py."""

app_name = "calls"
urlpatterns: list = []
