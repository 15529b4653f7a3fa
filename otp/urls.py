"""Page routes of this app, mounted under /otp/ by contactcenter/urls.py."""

app_name = "otp"
urlpatterns: list = []
