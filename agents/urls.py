from django.urls import path

from agents import views

app_name = "agents"
urlpatterns = [
    path("", views.agent_list_page, name="list"),
    path("new/", views.agent_create_page, name="create"),
    path("sync/", views.agent_sync_page, name="sync"),
]
