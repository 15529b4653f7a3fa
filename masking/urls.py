"""Page routes of this app, mounted under /masking/ by contactcenter/urls.py."""

app_name = "masking"
urlpatterns: list = []
