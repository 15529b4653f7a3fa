"""Page routes of the calls app, mounted under /calls/."""

from django.urls import path

from calls import views

app_name = "calls"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("place/", views.place, name="place"),
    path("history/", views.history, name="history"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/dismiss/", views.alert_dismiss, name="alert-dismiss"),
    path("live/", views.board_page, name="live"),
    path("live/board/", views.board, name="board"),
    path("live/<str:call_id>/<str:action>/", views.board_action, name="board-action"),
    path("<int:pk>/panel/", views.panel, name="panel"),
    path("<int:pk>/hangup/", views.hangup, name="hangup"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
    path("<int:pk>/wrap-up/", views.wrap_up, name="wrap-up"),
]
