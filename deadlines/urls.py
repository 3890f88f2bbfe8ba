from django.urls import path

from .api import AccountabilityView

urlpatterns = [
    path("accountability/", AccountabilityView.as_view(), name="api-accountability"),
]
