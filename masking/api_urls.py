"""API routes of this app, mounted under /api/v1/ by contactcenter/urls.py."""

from django.urls import path

from masking import apis

urlpatterns = [
    path("masking/resolve/", apis.masking_resolve_api, name="api-masking-resolve"),
    # Without the slash too: a POST must not be redirected (Smartflo would not follow it).
    path("masking/resolve", apis.masking_resolve_api),
    path("masking/rules/", apis.MaskingRuleListCreateApi.as_view(), name="api-masking-rules"),
    path("masking/rules/<id:pk>/", apis.MaskingRuleDetailApi.as_view(), name="api-masking-rule"),
    path("masking/sessions/", apis.MaskingSessionListCreateApi.as_view(), name="api-masking-sessions"),
    path("masking/sessions/<id:pk>/", apis.MaskingSessionDetailApi.as_view(), name="api-masking-session"),
    path(
        "masking/sessions/<id:pk>/close/",
        apis.MaskingSessionCloseApi.as_view(),
        name="api-masking-session-close",
    ),
]
