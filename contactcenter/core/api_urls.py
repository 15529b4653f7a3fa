from django.urls import path

from contactcenter.core import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api-me"),
]
