"""Evidence attachments (R53, R54): uploaded by those handling the incident, checked for type
and size, fingerprinted, and served only through a permission-checked download that hides
the incident from those who may not see it (404) and classified content from outsiders."""

import datetime as dt
import hashlib
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from incidents.models import Attachment, TimelineEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/incidents/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class Desk:
    def __init__(self, users):
        self.users = users

    def as_(self, username) -> APIClient:
        client = APIClient()
        client.force_authenticate(self.users[username])
        return client

    def log(self, by="duty", **fields) -> int:
        response = self.as_(by).post(URL, {
            "title": "某小区外墙脱落砸坏车辆视频流传", "summary": "短视频平台出现相关视频，评论较多。",
            "channel": "public_report", "discovered_at": dt.datetime.now(SHANGHAI).isoformat(), **fields,
        }, format="json")
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        assign = self.as_("command").post(f"{URL}{pk}/assign/", {"sections": ["petition"]}, format="json")
        assert assign.status_code == 200
        return pk

    def upload(self, username, pk, name="现场照片.png", content=PNG, content_type="image/png", note="现场照片"):
        upload = SimpleUploadedFile(name, content, content_type=content_type)
        return self.as_(username).post(f"{URL}{pk}/attachments/", {"file": upload, "note": note},
                                       format="multipart")

    def download(self, username, attachment_id):
        return self.as_(username).get(f"/api/v1/attachments/{attachment_id}/download/")


@pytest.fixture
def desk(demo):
    return Desk(demo)


def body_of(response) -> bytes:
    # Consuming the stream closes the response the way a WSGI server would (the test client
    # wraps it); closing it again by hand would fire request_finished and drop the connection.
    return b"".join(response.streaming_content)


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_member_of_an_assigned_section_uploads_evidence_and_gets_its_fingerprint(desk, media):
    pk = desk.log()
    response = desk.upload("petition", pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert body["kind"] == "image" and body["size"] == len(PNG) and body["name"] == "现场照片.png"
    assert body["url"] == f"/api/v1/attachments/{body['id']}/download/"

    files = stored_files(media)
    assert len(files) == 1 and files[0].read_bytes() == PNG
    event = TimelineEvent.objects.filter(incident_id=pk, verb="attachment_added").get()
    assert event.actor.username == "petition" and event.detail["sha256"] == body["sha256"]
    listed = desk.as_("petition").get(f"{URL}{pk}/").json()["attachments"]
    assert [(a["id"], a["sha256"], a["uploaded_by"]) for a in listed] == [(body["id"], body["sha256"], "petition")]


@pytest.mark.parametrize("username", ["petition", "command", "command2", "leader", "auditor", "duty"])
def test_the_download_returns_the_exact_bytes_to_everyone_who_may_see_the_incident(desk, username):
    pk = desk.log()
    attachment = desk.upload("petition", pk).json()
    response = desk.download(username, attachment["id"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert body_of(response) == PNG


def test_a_section_not_assigned_gets_404_for_the_download_and_the_upload(desk, media):
    pk = desk.log()
    attachment = desk.upload("petition", pk).json()
    hidden = desk.download("market", attachment["id"])
    assert hidden.status_code == 404 and hidden.json() == {"detail": "未找到。"}
    assert desk.download("market", 999999).json() == hidden.json()  # indistinguishable from nothing

    before = len(stored_files(media))
    refused = desk.upload("market", pk)
    assert refused.status_code == 404
    assert Attachment.objects.count() == 1 and len(stored_files(media)) == before


def test_classified_evidence_is_served_only_to_its_sections_command_and_leadership(desk):
    pk = desk.log(by="command2", title="涉密：某单位内部文件截图外泄", classified=True)
    attachment = desk.upload("petition", pk, name="截图.png").json()
    for username in ("petition", "command", "leader"):
        response = desk.download(username, attachment["id"])
        assert response.status_code == 200 and body_of(response) == PNG, username
    for username in ("duty", "auditor", "market"):
        assert desk.download(username, attachment["id"]).status_code == 404, username
    # the incident itself does not even list it for the duty desk
    assert desk.as_("duty").get(f"{URL}{pk}/").json()["attachments"] == []


@pytest.mark.parametrize("content_type,name", [
    ("application/x-msdownload", "setup.exe"),
    ("text/html", "page.html"),
    ("application/javascript", "x.js"),
])
def test_an_unsupported_file_type_is_refused_with_a_file_error_and_nothing_is_kept(desk, media, content_type, name):
    pk = desk.log()
    events = TimelineEvent.objects.filter(incident_id=pk).count()
    response = desk.upload("petition", pk, name=name, content=b"MZ\x90\x00" * 64, content_type=content_type)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["file"] and content_type in errors["file"][0]
    assert Attachment.objects.count() == 0 and stored_files(media) == []
    assert TimelineEvent.objects.filter(incident_id=pk).count() == events


def test_a_file_over_the_configured_size_is_refused_and_one_at_the_limit_accepted(desk, media, settings):
    settings.ATTACHMENT_MAX_BYTES = {**settings.ATTACHMENT_MAX_BYTES, "image": 1024 * 1024}
    pk = desk.log()
    too_big = desk.upload("petition", pk, name="big.png", content=PNG[:8] + b"\x00" * (1024 * 1024 - 7))
    assert too_big.status_code == 400
    assert list(too_big.json()) == ["file"] and "1.0\xa0MB" in too_big.json()["file"][0]
    assert Attachment.objects.count() == 0 and stored_files(media) == []

    at_limit = desk.upload("petition", pk, name="ok.png", content=PNG[:8] + b"\x00" * (1024 * 1024 - 8))
    assert at_limit.status_code == 201 and at_limit.json()["size"] == 1024 * 1024


def test_the_auditor_cannot_upload(desk, media):
    pk = desk.log()
    response = desk.upload("auditor", pk)
    assert response.status_code == 403
    assert list(response.json()) == ["detail"]
    assert Attachment.objects.count() == 0 and stored_files(media) == []


def test_an_upload_without_a_file_names_the_file_field(desk):
    pk = desk.log()
    response = desk.as_("petition").post(f"{URL}{pk}/attachments/", {"note": "忘了选文件"}, format="multipart")
    assert response.status_code == 400 and list(response.json()) == ["file"]


def test_a_closed_incident_takes_no_more_evidence(desk, media):
    pk = desk.log()
    command = desk.as_("command")
    assert command.post(f"{URL}{pk}/judge/", {"veracity": "false", "severity": "minor"},
                        format="json").json()["state"] == "watching"
    assert command.post(f"{URL}{pk}/close/", {}, format="json").json()["state"] == "closed"
    response = desk.upload("petition", pk)
    assert response.status_code == 409 and list(response.json()) == ["detail"]
    assert stored_files(media) == []


def test_an_uploaded_file_name_cannot_escape_the_media_folder(desk, media):
    pk = desk.log()
    response = desk.upload("petition", pk, name="../../../../etc/evil.png")
    assert response.status_code == 201
    files = stored_files(media)
    assert len(files) == 1 and media in files[0].parents
    assert desk.download("command", response.json()["id"]).status_code == 200


def test_a_download_needs_credentials(desk):
    pk = desk.log()
    attachment = desk.upload("petition", pk).json()
    assert APIClient().get(f"/api/v1/attachments/{attachment['id']}/download/").status_code == 401


def test_a_program_disguised_as_an_image_is_refused(desk, media):
    pk = desk.log()
    fake = desk.upload("petition", pk, name="photo.png", content=b"MZ\x90\x00" + b"\x00" * 200,
                       content_type="image/png")
    assert fake.status_code == 400
    assert "不符" in fake.json()["file"][0]
    assert Attachment.objects.count() == 0 and stored_files(media) == []


# --- issue 14: the bytes are exactly the declared type --------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.mark.parametrize("content,content_type", [
    (SVG, "image/png"),             # a script in an SVG is no PNG
    (GIF, "image/png"),             # another image type is not the declared one either
    (PNG, "image/jpeg"),
    (JPEG, "image/gif"),
    (b"%PDF-1.7\n" + b"\x00" * 32, "application/msword"),
    (b"PK\x03\x04" + b"\x00" * 64, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"<html><body><script>alert(1)</script></body></html>", "text/plain"),
    (b"\xe6\x83\x85\xe5\x86\xb5 <img src=x onerror=alert(1)>", "text/plain"),
    (b"<?xml version='1.0'?><a/>", "text/plain"),
    (b"\xff\xfe\x00\x00binary", "text/plain"),
])
def test_content_must_be_exactly_the_declared_type(desk, media, content, content_type):
    pk = desk.log()
    refused = desk.upload("petition", pk, name="file.bin", content=content, content_type=content_type)
    assert refused.status_code == 400, content_type
    assert f"文件内容与声明的类型“{content_type}”不符" in refused.json()["file"][0]
    assert Attachment.objects.count() == 0 and stored_files(media) == []


@pytest.mark.parametrize("content,content_type", [
    (PNG, "image/png"), (GIF, "image/gif"), (JPEG, "image/jpeg"),
    ("核实情况：帖文属实，已联系业主。a < b 且 c > d".encode(), "text/plain"),
    ("核实情况：帖文属实".encode("gb18030"), "text/plain"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
])
def test_content_of_the_declared_type_is_accepted(desk, content, content_type):
    pk = desk.log()
    assert desk.upload("petition", pk, name="file", content=content, content_type=content_type).status_code == 201


def test_a_word_document_is_a_zip_with_a_document(desk):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    pk = desk.log()
    assert desk.upload("petition", pk, name="核实.docx", content=buffer.getvalue(), content_type=docx).status_code == 201
