"""The incident page's documents in the browser: the PDF link downloads the document, the
archive of a closed case downloads, and the page prints without navigation, forms or buttons
(screenshots in docs/screenshots/)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .browser import screenshot
from .documents_case import closed_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_documents_and_archive_from_the_incident_page_and_its_print_layout(demo, open_as, live_server, time_machine):
    iid = closed_case(demo, time_machine)
    time_machine.move_to("2026-11-06 10:00 +0800", tick=True)
    page = open_as("petition")
    page.goto(f"{live_server.url}/incidents/{iid}/")
    page.locator("#panel-reports details.case-more summary").click()  # the case file's reports, opened
    expect(page.locator("#report-list")).to_be_visible()
    links = page.locator("#report-list .doc-links a", has_text="PDF")
    assert links.count() >= 2  # the verification and the status report of the section, and the others
    # LibreOffice converts while the browser waits (seconds on a busy machine).
    with page.expect_download(timeout=180_000) as download:
        page.locator("#current-notice .doc-links a", has_text="PDF").click(timeout=180_000)
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
    with page.expect_download(timeout=300_000) as download:
        page.click("#archive-download", timeout=300_000)
    assert download.value.suggested_filename == f"incident-{iid}-archive.zip"
    screenshot(page, "incident-documents")

    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.locator("#archive-download").is_visible()
    assert page.locator("#panel-timeline").is_visible()
    screenshot(page, "incident-print")
