from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from contactcenter.core import views as core_views

api_v1 = [
    path("", include("contactcenter.core.api_urls")),
    path("", include("agents.api_urls")),
    path("", include("calls.api_urls")),
    path("", include("masking.api_urls")),
    path("", include("otp.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", core_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", core_views.SignOutView.as_view(), name="logout"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("agents/", include("agents.urls")),
    path("calls/", include("calls.urls")),
    path("masking/", include("masking.urls")),
    path("otp/", include("otp.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:  # Django's debug 404 page (HTML, every URL pattern) would answer unknown API addresses
    urlpatterns.append(re_path(r"^api/(?P<rest>.*)$", core_views.api_not_found))

handler400 = "contactcenter.core.views.bad_request"
handler404 = "contactcenter.core.views.not_found"
handler403 = "contactcenter.core.views.forbidden"
handler500 = "contactcenter.core.views.server_error"
