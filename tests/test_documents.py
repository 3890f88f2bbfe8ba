"""Official documents from the record (R14, R15, R21, R23, R31, R51, R52): every kind as Word
(opened with python-docx) and as PDF (converted by the real LibreOffice; text and embedded
fonts read back with pypdf), laid out as GB/T 9704-2012 asks, numbered once, served to
content readers only."""

import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pypdf import PdfReader

from documents.models import DocumentKind, DocumentTemplate, IssuedDocument
from incidents.models import ClassifiedAccess, TimelineEvent
from responses.models import Report

from .api import Api
from .documents_case import closed_case

KINDS = DocumentKind.values
DOCS = Path(__file__).resolve().parent.parent / "docs" / "documents"
TITLE_TEXT = {
    "flash": "某小区业主在贴吧集中反映交房延期",
    "warning": "舆情预警通知单",
    "verification": "核查报告",
    "status": "处置进展",
    "feedback": "书面反馈",
    "briefing": "情况报告",
    "judgment": "研判意见",
    "summary": "舆情分析专题报告",
}
BODY_TEXT = {
    "flash": "业主在贴吧集中发帖",
    "warning": "交房延期引发集中投诉",
    "verification": "开发商已承诺月底交房",
    "status": "开发商已出具交房计划",
    "feedback": "已按要求核实并回应",
    "briefing": "事件已得到控制",
    "judgment": "综合研判：舆情热度下降",
    "summary": "加强监看",
}
UPWARD = {"feedback", "briefing", "summary"}
BULLETINS = {"flash", "status"}


@pytest.fixture
def case(demo, time_machine):
    return closed_case(demo, time_machine)


@pytest.fixture
def secret_case(demo, time_machine):
    return closed_case(demo, time_machine, classified=True)


def download(api, user, iid, kind, fmt, **params):
    response = api.get(user, f"/api/v1/incidents/{iid}/documents/{kind}.{fmt}", **params)
    assert response.status_code == 200, (kind, fmt, response.status_code)
    return response


def text_of(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    return "\n".join(parts)


def fonts_of(doc) -> set[str]:
    xml = doc.element.xml + doc.styles.element.xml
    return set(re.findall(r'w:eastAsia="([^"]+)"', xml))


@pytest.mark.django_db
def test_every_kind_as_word_carries_the_record_in_the_official_layout(api_docs):
    api, iid = api_docs
    for kind in KINDS:
        check_word(api, iid, kind)


def check_word(api, iid, kind):
    response = download(api, "command", iid, kind, "docx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    doc = Document(io.BytesIO(response.content))
    text = text_of(doc)
    assert TITLE_TEXT[kind] in text and BODY_TEXT[kind] in text
    assert "{{" not in text and "{%" not in text

    # GB/T 9704: A4, margins 37/35/28/26 mm, a grid of 22 lines.
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars" and int(grid.get(qn("w:linePitch"))) == 579
    assert {"仿宋_GB2312", "方正小标宋简体"} <= fonts_of(doc)
    assert ("黑体" in fonts_of(doc)) is (kind != "status")  # headings; a status report has none
    if kind in BULLETINS:
        assert "楷体_GB2312" in fonts_of(doc)  # 期号 and the editing unit
    title = next(p for p in doc.paragraphs if TITLE_TEXT[kind] in p.text and p.alignment == WD_ALIGN_PARAGRAPH.CENTER)
    assert title.runs[0].font.size.pt in (22, 36) or kind in BULLETINS

    # Page numbers "— 1 —": right on odd pages, left on even pages.
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert (odd.alignment, even.alignment) == (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT)
    assert odd.text.startswith("— ") and odd.text.endswith(" —") and "PAGE" in odd._p.xml

    # 成文日期 in Arabic numerals with the year in full.
    assert re.search(r"2026年11月[1-9]\d?日", text)
    if kind in BULLETINS:
        assert re.search(r"第\d+期", text) and "〔2026〕" not in text
    else:
        assert re.search(r"包房舆〔2026〕\d+号", text)
        assert "包头市住房保障和房屋管理局文件" in text
    assert ("签发人：" in text) is (kind in UPWARD)
    assert "秘密★" not in text  # not classified


@pytest.fixture
def api_docs(demo, case):
    return Api(demo), case


@pytest.mark.django_db
def test_every_kind_as_pdf_has_selectable_text_and_embedded_fonts(api_docs):
    api, iid = api_docs
    for kind in KINDS:
        response = download(api, "command", iid, kind, "pdf")
        assert response["Content-Type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(response.content))
        page = reader.pages[0]
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4
        text = "".join(p.extract_text() for p in reader.pages).replace("\n", "").replace(" ", "")
        assert TITLE_TEXT[kind].replace(" ", "") in text, kind
        assert BODY_TEXT[kind] in text, kind
        assert "—1—" in text
        fonts = {}
        for p in reader.pages:
            for font in p["/Resources"]["/Font"].values():
                font = font.get_object()
                descendant = font.get("/DescendantFonts")
                descriptor = (descendant[0].get_object() if descendant else font).get("/FontDescriptor")
                fonts[font["/BaseFont"]] = any(k in descriptor.get_object() for k in
                                               ("/FontFile", "/FontFile2", "/FontFile3"))
        assert fonts and all(fonts.values()), (kind, fonts)
        assert any("NotoSerifCJK" in name for name in fonts), fonts
        page_image(kind, response.content)


def page_image(kind: str, pdf: bytes):
    """The first page as PNG in docs/documents/ (linked from the README), as a reader sees it;
    written only when asked (``make screenshots`` sets SCREENSHOTS=1), like the screenshots."""
    if os.environ.get("SCREENSHOTS") != "1" or not shutil.which("pdftoppm"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"{kind}.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(DOCS / kind)], check=True)


@pytest.mark.django_db
def test_a_document_is_numbered_once_when_first_issued(api_docs):
    api, iid = api_docs
    first = Document(io.BytesIO(download(api, "command", iid, "feedback", "docx").content))
    number = re.search(r"包房舆〔2026〕(\d+)号", text_of(first)).group(1)
    again = Document(io.BytesIO(download(api, "leader", iid, "feedback", "docx").content))
    assert re.search(r"包房舆〔2026〕(\d+)号", text_of(again)).group(1) == number
    other = Document(io.BytesIO(download(api, "command", iid, "briefing", "docx").content))
    assert re.search(r"包房舆〔2026〕(\d+)号", text_of(other)).group(1) == str(int(number) + 1)
    bulletin = Document(io.BytesIO(download(api, "command", iid, "flash", "docx").content))
    assert "第1期" in text_of(bulletin)
    assert IssuedDocument.objects.filter(incident_id=iid).count() == 3
    issued = TimelineEvent.objects.filter(incident_id=iid, verb="document_issued")
    assert sorted(e.detail["kind"] for e in issued) == ["briefing", "feedback", "flash"]


@pytest.mark.django_db
def test_a_report_can_be_picked_and_the_list_names_what_exists(demo, time_machine):
    api = Api(demo)
    iid = api.log()["id"]
    listed = api.get("command", f"/api/v1/incidents/{iid}/documents/").json()
    assert listed == []
    assert api.get("command", f"/api/v1/incidents/{iid}/documents/flash.docx").status_code == 404
    api.act("command", iid, "report", kind="flash", body="第一份快报")
    api.act("command", iid, "report", kind="flash", body="第二份快报")
    listed = api.get("command", f"/api/v1/incidents/{iid}/documents/").json()
    assert [(d["kind"], d["formats"]) for d in listed] == [("flash", ["docx", "pdf"])]
    assert listed[0]["url"].endswith(f"/api/v1/incidents/{iid}/documents/flash.pdf")
    latest = text_of(Document(io.BytesIO(download(api, "command", iid, "flash", "docx").content)))
    assert "第二份快报" in latest
    first = Report.objects.filter(incident_id=iid, kind="flash").order_by("id").first()
    picked = text_of(Document(io.BytesIO(download(api, "command", iid, "flash", "docx", report=first.pk).content)))
    assert "第一份快报" in picked and "第2期" in picked  # numbered when first issued
    assert api.get("command", f"/api/v1/incidents/{iid}/documents/flash.docx", report=999999).status_code == 404
    assert api.get("command", f"/api/v1/incidents/{iid}/documents/memo.docx").status_code == 404


@pytest.mark.django_db
def test_only_content_readers_get_documents(demo, secret_case):
    api = Api(demo)
    iid = secret_case
    assert api.get("market", f"/api/v1/incidents/{iid}/documents/").status_code == 404  # not assigned
    assert api.get("market", f"/api/v1/incidents/{iid}/documents/flash.docx").status_code == 404
    # R6 (issue 11): the auditor reads a CLOSED case's documents, classified included; the read is logged
    assert api.get("auditor", f"/api/v1/incidents/{iid}/documents/flash.docx").status_code == 200
    assert ClassifiedAccess.objects.filter(incident_id=iid, via="document", user=demo["auditor"]).exists()
    doc = Document(io.BytesIO(download(api, "petition", iid, "warning", "docx").content))
    text = text_of(doc)
    assert "秘密★1年" in text and re.search(r"^\d{6}$", text, re.M)  # 密级★保密期限 and 份号, top left
    assert text.index("秘密★1年") < text.index("包头市住房保障和房屋管理局文件")
    assert ClassifiedAccess.objects.filter(incident_id=iid, via="document", user=demo["petition"]).exists()


def own_template(text: str) -> SimpleUploadedFile:
    doc = Document()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return SimpleUploadedFile("flash.docx", out.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@pytest.mark.django_db
def test_a_unit_replaces_a_template_in_the_admin(admin_client, demo):
    api = Api(demo)
    iid = api.log(title="模板测试事件")["id"]
    api.act("command", iid, "report", kind="flash", body="快报正文")
    listing = admin_client.get("/admin/documents/documenttemplate/").content.decode()
    assert "/admin/documents/documenttemplate/default/flash.docx" in listing
    default = admin_client.get("/admin/documents/documenttemplate/default/flash.docx")
    assert "{{ bulletin_title }}" in text_of(Document(io.BytesIO(default.content)))  # the tags to keep

    refused = admin_client.post("/admin/documents/documenttemplate/add/", {
        "kind": "flash", "file": SimpleUploadedFile("x.docx", b"not a word file")})
    assert refused.status_code == 200 and "模板不是可用的 Word" in refused.content.decode()
    assert not DocumentTemplate.objects.exists()

    saved = admin_client.post("/admin/documents/documenttemplate/add/", {
        "kind": "flash", "file": own_template("本单位快报：{{ title }}（{{ issue_label }}）{{ date_text }}")})
    assert saved.status_code == 302
    assert DocumentTemplate.objects.get().uploaded_by.username == "admin"
    text = text_of(Document(io.BytesIO(download(api, "command", iid, "flash", "docx").content)))
    assert text.startswith("本单位快报：模板测试事件（第1期）2026年")
