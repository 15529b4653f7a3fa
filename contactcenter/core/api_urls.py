from django.urls import path

from contactcenter.core import apis

urlpatterns = [
    path("", apis.ApiRootApi.as_view(), name="api-root"),
    path("me/", apis.MeApi.as_view(), name="api-me"),
]
