"""R53: the record is append-only — not through the application, not by SQL."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from incidents.models import ClassifiedAccess, TimelineEvent

from .api import Api


@pytest.fixture
def event(demo):
    iid = Api(demo).log()["id"]
    return TimelineEvent.objects.filter(incident_id=iid).first()


@pytest.mark.django_db
def test_the_application_cannot_change_or_delete_an_event(event):
    event.verb = "forged"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        TimelineEvent.objects.filter(pk=event.pk).update(verb="forged")
    with pytest.raises(PermissionDenied):
        TimelineEvent.objects.filter(pk=event.pk).delete()
    assert TimelineEvent.objects.get(pk=event.pk).verb == "logged"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
@pytest.mark.parametrize("sql", [
    "UPDATE incidents_timelineevent SET verb = 'forged' WHERE id = %s",
    "DELETE FROM incidents_timelineevent WHERE id = %s",
])
def test_postgresql_refuses_update_and_delete_by_sql(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert TimelineEvent.objects.get(pk=event.pk).verb == "logged"


@pytest.mark.django_db
def test_every_event_names_actor_time_verb_and_states(demo):
    api = Api(demo)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    inc = api.act("command", iid, "judge", veracity="false", severity="medium", analysis="谣言")
    judged = next(e for e in inc["timeline"] if e["verb"] == "judged")
    assert judged["actor"] == "command" and judged["at"]
    assert (judged["before"], judged["after"]) == ("judging", "judging")
    assert judged["detail"]["severity"] == "medium" and judged["detail"]["analysis"] == "谣言"
    granted = next(e for e in inc["timeline"] if e["verb"] == "permission_granted")
    assert granted["detail"]["group"] == "section:petition"


@pytest.mark.django_db
def test_opening_a_classified_incident_is_logged_whoever_opens_it(demo):

    api = Api(demo)
    iid = api.log("command2", classified=True)["id"]
    plain = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    assert api.get("petition", f"/api/v1/incidents/{iid}/").json()["content_withheld"] is False
    assert api.get("duty", f"/api/v1/incidents/{iid}/").json()["content_withheld"] is True
    api.get("petition", f"/api/v1/incidents/{plain}/")
    rows = list(ClassifiedAccess.objects.order_by("id").values_list("user__username", "via", "content_shown"))
    assert rows == [("petition", "api", True), ("duty", "api", False)]
    with pytest.raises(PermissionDenied):
        ClassifiedAccess.objects.all().delete()
