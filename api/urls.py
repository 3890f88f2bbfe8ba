from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import schema, views  # noqa: F401  (schema: the OpenAPI extensions register on import)
from .accountability import AccountabilityView
from .auth import TokenView
from .notifications import NotificationViewSet

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("sections/", views.SectionListView.as_view(), name="api-sections"),
    path("deadlines/", views.DeadlineListView.as_view(), name="api-deadlines"),
    path("attachments/<int:id>/download/", views.attachment_download, name="api-attachment-download"),
    path("accountability/", AccountabilityView.as_view(), name="api-accountability"),
    path("", include(router.urls)),
]
