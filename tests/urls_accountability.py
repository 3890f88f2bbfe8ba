"""The project's URLs plus deadlines.urls under /api/v1/, for tests that run before the lead
wires ``path("api/v1/", include("deadlines.urls"))`` into sentiment_ops/urls.py."""

from django.urls import include, path

from sentiment_ops.urls import handler404, handler500  # noqa: F401
from sentiment_ops.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/v1/", include("deadlines.urls")), *project_urlpatterns]
