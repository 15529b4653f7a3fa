"""API routes of this app, mounted under /api/v1/ by contactcenter/urls.py."""

from django.urls import path

from otp import apis

urlpatterns = [
    path("otp/send/", apis.OtpSendApi.as_view(), name="api-otp-send"),
    path("otp/verify/", apis.OtpVerifyApi.as_view(), name="api-otp-verify"),
]
