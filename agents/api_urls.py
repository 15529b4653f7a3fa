from django.urls import path

from agents import apis

urlpatterns = [
    path("agents/", apis.AgentListCreateApi.as_view(), name="api-agents"),
    path("agents/sync/", apis.AgentSyncApi.as_view(), name="api-agents-sync"),
]
