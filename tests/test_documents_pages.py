"""The pages offer the documents, ledgers and archive: Word and PDF beside each report, the
warning notice and the judgment; the archive of a closed case; ledger buttons on the list,
我的待办 and 问责统计 — each to those who may have it, downloaded with the page's session."""

import pytest
from django.test import Client

from .api import Api
from .documents_case import closed_case


@pytest.fixture
def web(demo):
    def as_(username):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(demo[username])
        return client
    return as_


@pytest.mark.django_db
def test_the_incident_page_offers_each_document_and_the_archive(demo, web, time_machine):
    iid = closed_case(demo, time_machine, classified=True)
    page = web("petition").get(f"/incidents/{iid}/").content.decode()
    # the reports' own documents are in the reports panel, read when it is opened
    page += web("petition").get(f"/incidents/{iid}/panels/reports/").content.decode()
    for kind in ("warning", "judgment", "verification", "status", "summary"):
        assert f"/api/v1/incidents/{iid}/documents/{kind}.pdf" in page, kind
        assert f"/api/v1/incidents/{iid}/documents/{kind}.docx" in page, kind
    assert f'href="/api/v1/incidents/{iid}/archive.zip"' in page
    assert "data-print" in page
    report_link = page.split(f"/api/v1/incidents/{iid}/documents/summary.pdf?report=")[1].split('"')[0]
    assert report_link.isdigit()
    # The page's session downloads what the page links.
    response = web("petition").get(f"/api/v1/incidents/{iid}/documents/summary.docx?report={report_link}")
    assert response.status_code == 200 and response["Content-Type"].endswith("wordprocessingml.document")
    # The auditor reads the closed classified case in full (R6, issue 11): documents and archive.
    page = web("auditor").get(f"/incidents/{iid}/").content.decode()
    page += web("auditor").get(f"/incidents/{iid}/panels/reports/").content.decode()
    assert "/documents/" in page and "archive.zip" in page
    # a section that does not read it gets neither (it does not even see the case)
    assert web("market").get(f"/incidents/{iid}/").status_code == 404


@pytest.mark.django_db
def test_ledger_buttons_carry_the_page_filters(demo, web):
    Api(demo).log()
    page = web("command").get("/incidents/", {"state": "reported", "section": "petition"}).content.decode()
    assert 'href="/api/v1/ledger/incidents.xlsx?state=reported&amp;section=petition"' in page
    assert 'href="/api/v1/ledger/deadlines.xlsx"' in web("petition").get("/todo/").content.decode()
    page = web("command").get("/accountability/", {"from": "2026-11-01", "to": "2026-11-30",
                                                   "section": "petition"}).content.decode()
    assert 'href="/api/v1/ledger/deadlines.xlsx?from=2026-11-01&amp;to=2026-11-30&amp;owner=petition"' in page
    response = web("petition").get("/api/v1/ledger/deadlines.xlsx")
    assert response.status_code == 200
