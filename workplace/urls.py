from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/panels/<slug:panel>/", views.incident_panel, name="incident_panel"),
    path("incidents/<int:pk>/timeline/", views.incident_timeline, name="incident_timeline"),
    path("incidents/<int:pk>/act/<slug:action>/", views.incident_action, name="incident_action"),
    path("approvals/", views.approvals, name="approvals"),
    path("todo/", views.todo, name="todo"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("accountability/", views.accountability_page, name="accountability"),
]
