"""The sealed archive of a closed case (R53): archive.zip with every document as PDF, every
attachment, timeline.json/.csv and manifest.json whose hashes verify; built by the Celery task
on closing or by the first download, once; the download is itself a timeline event."""

import csv
import datetime as dt
import hashlib
import io
import json
import threading
import zipfile

import pytest
from django.db import connection
from django.utils import timezone

from documents import archive
from documents.models import IncidentArchive
from documents.services import archive_ensure
from documents.tasks import archive_build
from incidents.models import ClassifiedAccess, Incident, State, TimelineEvent
from incidents.timeline import verify

from .api import Api
from .documents_case import CLOSE, closed_case


@pytest.fixture
def case(demo, time_machine):
    return closed_case(demo, time_machine)


def fetch(api, user, iid):
    response = api.get(user, f"/api/v1/incidents/{iid}/archive.zip")
    assert response.status_code == 200, response.content[:200]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.django_db
def test_manifest_hashes_verify_and_the_head_is_the_chain_end(demo, case):
    api = Api(demo)
    zf = fetch(api, "auditor", case)
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["incident"] == case and manifest["generated_at"]
    paths = {f["path"] for f in manifest["files"]}
    assert set(zf.namelist()) == paths | {"manifest.json"}
    for f in manifest["files"]:
        data = zf.read(f["path"])
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
    kinds = {p.split("/")[1].split("-")[0] for p in paths if p.startswith("documents/")}
    assert kinds == {"flash", "warning", "verification", "status", "feedback", "briefing", "judgment", "summary"}
    assert all(zf.read(p).startswith(b"%PDF") for p in paths if p.startswith("documents/"))
    (attachment,) = [p for p in paths if p.startswith("attachments/")]
    assert attachment.endswith("现场情况说明.txt") and zf.read(attachment) == "现场情况说明：业主聚集。".encode()
    timeline = json.loads(zf.read("timeline.json"))
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert manifest["timeline_head"] == timeline[-1]["hash"]
    table = list(csv.DictReader(io.StringIO(zf.read("timeline.csv").decode("utf-8-sig"))))
    assert [r["hash"] for r in table] == [e["hash"] for e in timeline]
    assert verify(case) is None

    # Downloading is a timeline event; the stored archive is served again, not rebuilt.
    sealed = IncidentArchive.objects.get(incident_id=case)
    downloads = TimelineEvent.objects.filter(incident_id=case, verb="archive_downloaded")
    assert [e.actor.username for e in downloads] == ["auditor"]
    assert downloads[0].detail["timeline_head"] == manifest["timeline_head"]
    again = fetch(api, "command", case)
    assert json.loads(again.read("manifest.json")) == manifest
    assert IncidentArchive.objects.get(incident_id=case).built_at == sealed.built_at
    assert TimelineEvent.objects.filter(incident_id=case, verb="archive_downloaded").count() == 2


@pytest.mark.django_db
def test_closing_queues_the_build(demo, time_machine, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(archive_build, "delay", queued.append)
    iid = closed_case(demo, time_machine, close=False)
    with django_capture_on_commit_callbacks(execute=True):
        Api(demo).act("command", iid, "close", **CLOSE)
    assert queued == [iid]


@pytest.mark.django_db
def test_the_task_builds_once_and_again_after_another_closing(demo, case):
    archive_build(case)  # what the worker runs after closing
    first = IncidentArchive.objects.get(incident_id=case)
    assert first.file and first.sealed_for == Incident.objects.get(pk=case).closed_at
    archive_build(case)  # a redelivered task changes nothing
    assert IncidentArchive.objects.get(incident_id=case).built_at == first.built_at

    Api(demo).act("command", case, "reopen", reason="舆情反复")
    assert archive_ensure(incident_id=case) is None  # open again: nothing to seal
    later = timezone.now() + dt.timedelta(days=9)
    Incident.objects.filter(pk=case).update(state=State.CLOSED, closed_at=later)  # closed again
    archive_build(case)
    rebuilt = IncidentArchive.objects.get(incident_id=case)
    assert rebuilt.sealed_for == later and rebuilt.sha256 != first.sha256
    manifest = json.loads(zipfile.ZipFile(rebuilt.file.open("rb")).read("manifest.json"))
    assert manifest["timeline_head"] == rebuilt.timeline_head
    assert any(e["verb"] == "reopened" for e in json.loads(zipfile.ZipFile(rebuilt.file.open("rb")).read("timeline.json")))


@pytest.mark.django_db
def test_only_content_readers_may_download(demo, time_machine):
    api = Api(demo)
    iid = closed_case(demo, time_machine, classified=True)
    assert api.get("market", f"/api/v1/incidents/{iid}/archive.zip").status_code == 404
    assert not IncidentArchive.objects.filter(incident_id=iid).exists()
    # R6 (issue 11): the auditor reads the complete record of a closed case, classified included, logged (R54)
    assert api.get("auditor", f"/api/v1/incidents/{iid}/archive.zip").status_code == 200
    assert ClassifiedAccess.objects.filter(incident_id=iid, user=demo["auditor"], via="archive",
                                           content_shown=True).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL")
def test_two_first_downloads_build_the_archive_once(demo, time_machine, monkeypatch):
    """The second caller waits on the archive row's lock while the first builds, then finds it
    built: one build (without sleeping: the test watches the second backend wait on the lock)."""
    iid = closed_case(demo, time_machine)
    building, release, builds, results = threading.Event(), threading.Event(), [], {}
    real_build = archive.build

    def slow_build(incident, issued):
        builds.append(incident.pk)
        building.set()
        assert release.wait(60)
        return real_build(incident, issued)

    monkeypatch.setattr(archive, "build", slow_build)

    def ensure(name):
        try:
            results[name] = archive_ensure(incident_id=iid).sha256
        finally:
            connection.close()

    first = threading.Thread(target=ensure, args=("first",))
    first.start()
    assert building.wait(60)
    second = threading.Thread(target=ensure, args=("second",))
    second.start()
    with connection.cursor() as cursor:
        for _ in range(100_000):  # until the second backend waits on the row lock
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                           " AND datname = current_database()")
            if cursor.fetchone()[0]:
                break
        else:
            pytest.fail("the second caller never waited on the lock")
    release.set()
    first.join(120)
    second.join(120)
    assert builds == [iid]
    assert results["first"] == results["second"] == IncidentArchive.objects.get(incident_id=iid).sha256
