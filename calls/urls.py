"""Page routes of the calls app, mounted under /calls/."""

from django.urls import path

from calls import records_views, views

app_name = "calls"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("place/", views.place, name="place"),
    path("history/", views.history, name="history"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<id:pk>/dismiss/", views.alert_dismiss, name="alert-dismiss"),
    path("live/", views.board_page, name="live"),
    path("live/board/", views.board, name="board"),
    path("live/<str:call_id>/<str:action>/", views.board_action, name="board-action"),
    path("<id:pk>/panel/", views.panel, name="panel"),
    path("<id:pk>/hangup/", views.hangup, name="hangup"),
    path("<id:pk>/transfer/", views.transfer, name="transfer"),
    path("<id:pk>/wrap-up/", views.wrap_up, name="wrap-up"),
    path("inbound/<id:pk>/panel/", views.inbound_panel, name="inbound-panel"),
    path("inbound/<id:pk>/wrap-up/", views.inbound_wrap_up, name="inbound-wrap-up"),
    path("inbound/<id:pk>/hangup/", views.inbound_hangup, name="inbound-hangup"),
    path("inbound/<id:pk>/transfer/", views.inbound_transfer, name="inbound-transfer"),
    path("records/", records_views.records_dashboard, name="records"),
    path("records/charts/", records_views.records_charts, name="records-charts"),
    path("records/sync/", records_views.records_sync, name="records-sync"),
    path("records/export.csv", records_views.records_export, name="records-export"),
    path("records/<str:call_id>/recording", records_views.record_recording, name="record-recording"),
]
