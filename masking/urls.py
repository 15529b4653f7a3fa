"""Page routes of this app, mounted under /masking/ by contactcenter/urls.py."""

from django.urls import path

from masking import views

app_name = "masking"
urlpatterns = [
    path("", views.masking_home, name="home"),
]
