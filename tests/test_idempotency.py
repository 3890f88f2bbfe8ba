"""Issue 14, "retries duplicate": a POST repeated with the same ``Idempotency-Key`` within 24 h
returns the first answer and does nothing twice — incident creation, actions, attachments —
and the same key on a different request is refused. Without a key nothing changes."""

import datetime as dt
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from api.models import IdempotentRequest
from incidents.models import Attachment, Incident, TimelineEvent
from organization.models import User
from responses.models import Report

from .api import SHANGHAI, Api

URL = "/api/v1/incidents/"


@pytest.fixture
def api(demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return Api(demo)


def payload(**fields):
    return {"title": "监测软件报送：某小区燃气泄漏传言", "summary": "多个群转发", "channel": "monitoring",
            "discovered_at": dt.datetime.now(SHANGHAI).isoformat(), **fields}


def test_a_retried_creation_files_one_incident_and_answers_the_same(api):
    client = api.client("duty")
    body = payload()
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="feed-0001")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="feed-0001")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1
    other = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="feed-0002")
    assert other.status_code == 201 and Incident.objects.count() == 2
    assert client.post(URL, body, format="json").status_code == 201  # no key: no promise
    assert Incident.objects.count() == 3


def test_fifty_identical_verification_reports_make_one(api):
    incident = api.log(sections=["petition"])
    api.act("command", incident["id"], "judge", veracity="true", severity="medium")
    client = api.client("petition")
    url = f"{URL}{incident['id']}/report/"
    answers = [client.post(url, {"kind": "verification", "section": "petition", "body": "情况属实"},
                           format="json", HTTP_IDEMPOTENCY_KEY="verify-petition-1") for _ in range(50)]
    assert {a.status_code for a in answers} == {200}
    assert Report.objects.filter(incident_id=incident["id"], kind="verification").count() == 1
    assert TimelineEvent.objects.filter(incident_id=incident["id"], verb="reported").count() <= 1


def test_the_same_key_on_another_request_is_422_and_keys_are_per_user(api):
    client = api.client("duty")
    assert client.post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    clash = client.post(URL, payload(title="另一件事"), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert clash.status_code == 422 and "Idempotency-Key" in clash.json()["detail"]
    assert api.client("command").post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    too_long = client.post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert too_long.status_code == 400 and list(too_long.json()) == ["Idempotency-Key"]
    assert Incident.objects.count() == 2


def test_a_refused_request_keeps_no_key_and_a_key_expires_after_24_hours(api, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI), tick=False)
    client = api.client("duty")
    invalid = client.post(URL, payload(title=""), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert invalid.status_code == 400 and not IdempotentRequest.objects.exists()
    assert client.post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY="k2").status_code == 201
    time_machine.move_to(dt.datetime(2026, 11, 24, 9, 1, tzinfo=SHANGHAI), tick=False)
    later = client.post(URL, payload(discovered_at="2026-11-24T09:00:00+08:00"), format="json",
                        HTTP_IDEMPOTENCY_KEY="k2")
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Incident.objects.count() == 2


def test_an_attachment_uploaded_twice_with_a_key_is_stored_once(api):
    incident = api.log()
    client = api.client("duty")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    answers = [client.post(f"{URL}{incident['id']}/attachments/",
                           {"file": SimpleUploadedFile("现场.png", png, content_type="image/png")},
                           format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1") for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json() == answers[1].json()
    assert Attachment.objects.count() == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_file_once(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    duty = User.objects.get(username="duty")
    body, answers = payload(), []

    def post():
        client = APIClient()
        client.force_authenticate(duty)
        answers.append(client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="race-1"))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1 and Incident.objects.count() == 1
