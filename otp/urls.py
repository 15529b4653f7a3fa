"""Page routes of this app, mounted under /otp/ by contactcenter/urls.py."""

from django.urls import path

from otp import views

app_name = "otp"
urlpatterns = [
    path("", views.otp_challenge_list_page, name="list"),
    path("<uuid:challenge_id>/", views.otp_challenge_detail_page, name="detail"),
]
