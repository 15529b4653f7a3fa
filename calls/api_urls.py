"""API routes of the calls app, mounted under /api/v1/."""

from django.urls import path

from calls import apis, records_apis

urlpatterns = [
    path("calls/click-to-call/", apis.ClickToCallApi.as_view(), name="api-click-to-call"),
    path("calls/<str:call_id>/", apis.CallDetailApi.as_view(), name="api-call-detail"),
    path("calls/<str:call_id>/hangup/", apis.CallHangupApi.as_view(), name="api-call-hangup"),
    path("calls/<str:call_id>/transfer/", apis.CallTransferApi.as_view(), name="api-call-transfer"),
    path("webhooks/smartflo/", apis.SmartfloWebhookApi.as_view(), name="api-webhook-smartflo"),
    path("call-records/", records_apis.CallRecordListApi.as_view(), name="api-call-records"),
    path("call-records/<str:call_id>/", records_apis.CallRecordDetailApi.as_view(), name="api-call-record-detail"),
]
