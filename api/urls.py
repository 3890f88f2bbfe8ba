from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from . import documents, schema, views  # noqa: F401  (schema: the OpenAPI extensions register on import)
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
    path("incidents/<int:id>/documents/", documents.document_list, name="api-documents"),
    re_path(r"^incidents/(?P<id>\d+)/documents/(?P<kind>[a-z]+)\.(?P<fmt>docx|pdf)$", documents.document_download,
            name="api-document"),
    path("incidents/<int:id>/archive.zip", documents.archive_download, name="api-archive"),
    path("ledger/incidents.xlsx", documents.ledger_incidents, name="api-ledger-incidents"),
    path("ledger/deadlines.xlsx", documents.ledger_deadlines, name="api-ledger-deadlines"),
    path("", include(router.urls)),
]
