from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from organization.forms import FirstPasswordChangeForm

from .health import healthz

admin.site.site_header = _("网络舆情应急处置系统 · 管理后台")
admin.site.site_title = _("舆情应急处置")
admin.site.index_title = _("系统配置")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("workplace.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Also where a one-time password must be changed first (organization/middleware.py).
    path("accounts/password/", auth_views.PasswordChangeView.as_view(
        form_class=FirstPasswordChangeForm, template_name="registration/first_password_change.html",
        success_url="/"), name="password_change"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # The schema and its docs page only for those who are logged in (401 / the login page).
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    path("api/docs/", login_required(SpectacularSwaggerView.as_view(url_name="schema")), name="api-docs"),
]

handler400 = "sentiment_ops.errors.bad_request"
handler404 = "sentiment_ops.errors.not_found"
handler500 = "sentiment_ops.errors.server_error"
