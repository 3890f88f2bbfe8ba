"""The English interface: the catalogue translates every string, and the workplace pages a
command-group member reads in English show Chinese only where the data itself is Chinese."""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from .api import Api

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_english_catalogue_translates_every_entry():
    po = polib.pofile(str(CATALOGUE))
    live = [e for e in po if not e.obsolete]
    assert live, "the catalogue is empty"
    untranslated = [e.msgid for e in live if not e.translated()]
    fuzzy = [e.msgid for e in live if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    for e in live:
        for msgstr in e.msgstr_plural.values() if e.msgid_plural else [e.msgstr]:
            assert not CJK.search(msgstr), (e.msgid, msgstr)


GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}


def test_every_translated_string_of_the_code_reaches_the_catalogue():
    """makemessages (xgettext) reads a ``_("…")`` call, but not one inside an f-string: a label
    moved from a template into Python there would leave the catalogue, and the English pages
    would show it in Chinese."""
    hidden = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "node_modules", "tests"} or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.JoinedStr):
                hidden += [f"{path.relative_to(ROOT)}:{call.lineno}" for call in ast.walk(node)
                           if isinstance(call, ast.Call) and getattr(call.func, "id", None) in GETTEXT]
    assert not hidden, f"translated inside an f-string (hoist the call out): {hidden}"


class _Text(HTMLParser):
    """What a reader sees or hears: text nodes and the attributes that are read out,
    without scripts, JSON data and the language picker (whose options name themselves)."""

    SPOKEN = {"title", "aria-label", "placeholder", "alt", "hx-confirm", "value"}

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style") or (tag == "select" and attrs.get("name") == "language"):
            self._skip.append(tag)
        if self._skip:
            return
        self.parts += [v for k, v in attrs.items() if v and (k in self.SPOKEN or k.startswith("data-"))
                       and not (tag == "input" and attrs.get("type") == "hidden")]

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def _user_data() -> list[str]:
    """Every Chinese text value stored by the project's models (names, titles, notes...)."""
    values = set()
    ours = {c.label for c in apps.get_app_configs() if Path(c.path).is_relative_to(ROOT) and ".venv" not in c.path}
    for model in apps.get_models():
        if model._meta.app_label not in ours:
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))]
        for row in model.objects.values_list(*fields) if fields else []:
            values.update(v for v in row if isinstance(v, str) and CJK.search(v))
        if model is apps.get_model("organization", "User"):
            values.update(str(u) for u in model.objects.all())
    # Longest first, and each line of a multi-line value on its own (templates break lines).
    pieces = values | {line.strip() for v in values for line in v.splitlines() if line.strip()}
    return sorted(pieces, key=len, reverse=True)


def _chinese_left(html: str, user_data: list[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    left = []
    for part in parser.parts:
        for value in user_data:
            part = part.replace(value, " ")
        if CJK.search(part):
            left.append(part.strip())
    return left


@pytest.fixture
def english_command(demo):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    client.force_login(demo["command"])
    return client


@pytest.mark.django_db
def test_dashboard_and_incident_page_speak_english(demo, english_command):
    api = Api(demo)
    incident = api.log(summary="业主在论坛集中发帖，话题阅读量上升。", keywords="交房 延期")
    pk = incident["id"]
    api.act("command", pk, "assign", sections=["petition"])
    api.act("command", pk, "judge", veracity="true", severity="major", analysis="业主集中维权")
    api.act("command", pk, "warn", level=3, subject="某小区业主", scope="全市", matters="交房延期",
            measures="核实情况", delivery="fax")

    dashboard = english_command.get("/")
    detail = english_command.get(f"/incidents/{pk}/")
    assert dashboard.status_code == detail.status_code == 200
    user_data = _user_data()

    html = dashboard.content.decode()
    assert '<html lang="en">' in html
    for label in ["Dashboard", "Log out", "Language", "Deadline alerts", "Awaiting judgment",
                  "Incidents in emergency response", "Waiting for a decision body", "Command group"]:
        assert label in html, label
    assert _chinese_left(html, user_data) == []

    html = detail.content.decode()
    for label in ["Judgment", "Early warning", "Emergency response", "Messaging lines",
                  "Timeline", "Responsible section", "Warning notice", "Veracity", "Severity",
                  "Warned", "Major", "Level Ⅲ warning", "Change warning level", "Lift warning"]:
        assert label in html, label
    assert _chinese_left(html, user_data) == []


FULL_WIDTH = re.compile("[：，。；！？（）、【】]")


@pytest.mark.django_db
def test_english_homes_and_lists_have_no_chinese_and_no_full_width_punctuation(demo):
    from lifecycle.demo_cases import seed_cases

    seed_cases()
    user_data = _user_data()
    for username in ["duty", "command", "leader", "infohead", "petition", "auditor"]:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.cookies["django_language"] = "en"
        client.force_login(demo[username])
        for url in ["/", "/incidents/", "/approvals/", "/todo/", "/accountability/"]:
            page = client.get(url)
            if page.status_code == 404:
                continue
            html = page.content.decode()
            assert _chinese_left(html, user_data) == [], (username, url)
            parser = _Text()
            parser.feed(html)
            text = " ".join(p for p in parser.parts if not any(v in p for v in user_data))
            assert not FULL_WIDTH.findall(text), (username, url, FULL_WIDTH.findall(text))
    menu = client.get("/").content.decode()
    assert '<option value="en" selected>English</option>' in menu and '>中文</option>' in menu
