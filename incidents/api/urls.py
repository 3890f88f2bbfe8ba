from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from deadlines.notifications import NotificationViewSet

from . import views

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("sections/", views.SectionListView.as_view(), name="api-sections"),
    path("deadlines/", views.DeadlineListView.as_view(), name="api-deadlines"),
    path("attachments/<int:id>/download/", views.attachment_download, name="api-attachment-download"),
    path("", include(router.urls)),
]
