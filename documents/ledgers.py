"""台账 in Excel (XlsxWriter, constant-memory mode): rows are read in chunks from the database
and written straight to a temporary file, so a 10,000-row ledger never sits in memory; the
view streams the file. A frozen header, column widths, date formats and an autofilter make it
a sheet a clerk can file as it is."""

import tempfile

import xlsxwriter
from django import forms
from django.db.models import Case, Exists, Min, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deadlines import accountability
from deadlines.selectors import visible_deadlines
from early_warnings.models import Level, WarningNotice
from incidents import permissions as perms
from incidents.models import Assignment
from incidents.selectors import visible
from organization.selectors import unit_ids
from responses.models import ResponseProposal

CHUNK = 2000
DATE = "yyyy-mm-dd hh:mm"


class LedgerFilter(forms.Form):
    """``from``/``to`` (YYYY-MM-DD, inclusive; the logging date of an incident, the due date of
    a deadline), ``state``, and ``section`` (incidents) or ``owner`` (deadlines)."""

    state = forms.CharField(required=False, max_length=12)
    section = forms.CharField(required=False, max_length=32)
    owner = forms.CharField(required=False, max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label=gettext_lazy("起始日期"), required=False, input_formats=["%Y-%m-%d"])
        self.fields["to"] = forms.DateField(label=gettext_lazy("截止日期"), required=False, input_formats=["%Y-%m-%d"])

    def bounds(self):
        return accountability.period_bounds(self.cleaned_data.get("from"), self.cleaned_data.get("to"))


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _period_and_state(qs, params, field: str):
    """``from``/``to`` on ``field`` (local dates, inclusive) and ``state``, as given."""
    lower, upper = params.bounds()
    if lower:
        qs = qs.filter(**{f"{field}__gte": lower})
    if upper:
        qs = qs.filter(**{f"{field}__lt": upper})
    if params.cleaned_data.get("state"):
        qs = qs.filter(state=params.cleaned_data["state"])
    return qs


def incident_rows(user, params):
    """The incidents ``user`` may see, filtered; titles of classified incidents they may not
    read are the placeholder (R54)."""
    qs = _period_and_state(visible(user), params, "reported_at")
    if params.cleaned_data.get("section"):
        qs = qs.filter(Exists(Assignment.objects.filter(incident=OuterRef("pk"),
                                                        section__code=params.cleaned_data["section"])))
    top_warning = (WarningNotice.objects.filter(incident=OuterRef("pk")).order_by().values("incident")
                   .annotate(top=Min("level")).values("top"))
    top_response = (ResponseProposal.objects.filter(incident=OuterRef("pk"), decision=ResponseProposal.Decision.APPROVED)
                    .order_by().values("incident").annotate(top=Min("level")).values("top"))
    rule = perms.content_readable(user)  # Q() when the user reads every incident's content
    readable = Case(When(rule, then=Value(True)), default=Value(False)) if rule else Value(True)
    return (qs.annotate(top_warning=Subquery(top_warning), top_response=Subquery(top_response), readable=readable)
            .order_by("reported_at", "pk"))


def with_section_names(rows):
    """Each incident with ``section_names`` set, read chunk by chunk as plain (id, name) tuples:
    a prefetch would build model instances for every assignment and section (10× slower)."""
    chunk = []
    for incident in rows.iterator(chunk_size=CHUNK):
        chunk.append(incident)
        if len(chunk) == CHUNK:
            yield from _named(chunk)
            chunk = []
    yield from _named(chunk)


def _named(chunk):
    names = {}
    for incident_id, name in (Assignment.objects.filter(incident_id__in=[i.pk for i in chunk])
                              .order_by("section__order", "section__code").values_list("incident_id", "section__name")):
        names.setdefault(incident_id, []).append(name)
    for incident in chunk:
        incident.section_names = "、".join(names.get(incident.pk, []))
    return chunk


def deadline_rows(user, params):
    """The deadlines ``user`` may see; a section's or body's member sees only their own units'."""
    qs = _period_and_state(visible_deadlines(user).select_related("incident", "met_by"), params, "due_at")
    if not perms.sees_everything(user):
        section_ids, body_ids = unit_ids(user)
        qs = qs.filter(Q(owner_section__in=section_ids) | Q(owner_body__in=body_ids))
    if owner := params.cleaned_data.get("owner"):
        qs = qs.filter(Q(owner_section__code=owner) | Q(owner_body__code=owner))
    return qs.order_by("due_at", "pk")


class _Book:
    def __init__(self):
        self.file = tempfile.NamedTemporaryFile(prefix="ledger-", suffix=".xlsx")  # noqa: SIM115 (returned open)
        self.book = xlsxwriter.Workbook(self.file.name, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
        self.head = self.book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                                          "valign": "vcenter", "font_name": "宋体"})
        self.date = self.book.add_format({"num_format": DATE, "font_name": "宋体"})
        self.text = self.book.add_format({"font_name": "宋体"})
        self.pct = self.book.add_format({"num_format": "0.0%", "font_name": "宋体"})

    def sheet(self, name, columns):
        """columns: [(header, width, kind)] with kind "text" | "date" | "number" | "pct"."""
        ws = self.book.add_worksheet(name)
        for n, (header, width, kind) in enumerate(columns):
            ws.set_column(n, n, width, {"date": self.date, "pct": self.pct}.get(kind, self.text))
            ws.write_string(0, n, header, self.head)
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.repeat_rows(0)
        return ws

    def row(self, ws, r, values, columns):
        for n, value in enumerate(values):
            kind = columns[n][2]
            if value is None or value == "":
                continue
            if kind == "date":
                ws.write_datetime(r, n, value, self.date)
            elif kind in ("number", "pct"):
                ws.write_number(r, n, value, self.pct if kind == "pct" else None)
            else:
                ws.write_string(r, n, str(value))

    def close(self, ws_rows):
        for ws, rows, width in ws_rows:
            ws.autofilter(0, 0, max(rows, 1), width - 1)
        self.book.close()
        self.file.seek(0)
        return self.file


def incidents_xlsx(user, params):
    """An open temporary file with the incidents ledger."""
    columns = [
        (_("编号"), 8, "number"), (_("标题"), 40, "text"), (_("发现渠道"), 14, "text"),
        (_("发现时间"), 17, "date"), (_("登记时间"), 17, "date"), (_("舆情等级"), 11, "text"),
        (_("真实性"), 9, "text"), (_("最高预警级别"), 20, "text"), (_("最高响应级别"), 12, "text"),
        (_("责任股室"), 24, "text"), (_("状态"), 11, "text"), (_("办结时间"), 17, "date"),
        (_("处置天数"), 9, "number"),
    ]
    book = _Book()
    ws = book.sheet(_("舆情事件台账"), columns)
    now, r = timezone.now(), 0
    for r, inc in enumerate(with_section_names(incident_rows(user, params)), start=1):
        end = inc.closed_at or now
        book.row(ws, r, [
            inc.pk,
            perms.shown_title(inc.title, not inc.classified or inc.readable, inc.pk),
            inc.get_channel_display(), _local(inc.discovered_at), _local(inc.reported_at),
            inc.get_severity_display(), inc.get_veracity_display(),
            Level(inc.top_warning).label if inc.top_warning else "",
            _("%(level)s级") % {"level": "ⅠⅡⅢⅣ"[inc.top_response - 1]} if inc.top_response else "",
            inc.section_names, inc.get_state_display(), _local(inc.closed_at),
            (end - inc.reported_at).days,
        ], columns)
    return book.close([(ws, r, len(columns))])


def deadlines_xlsx(user, params, figures=None):
    """An open temporary file with the deadlines ledger and, when ``figures`` (an
    accountability report) is given, the accountability sheet."""
    columns = [
        (_("事件编号"), 9, "number"), (_("责任单位"), 16, "text"), (_("类别"), 16, "text"),
        (_("到期时间"), 17, "date"), (_("最迟时间"), 17, "date"), (_("完成时间"), 17, "date"),
        (_("状态"), 9, "text"), (_("完成人"), 12, "text"),
    ]
    book = _Book()
    ws = book.sheet(_("报送期限台账"), columns)
    r = 0
    for r, d in enumerate(deadline_rows(user, params).iterator(chunk_size=CHUNK), start=1):
        owner = d.owner_section or d.owner_body
        who = (d.met_by.get_full_name() or d.met_by.username) if d.met_by_id else ""
        book.row(ws, r, [d.incident_id, owner.name, d.get_kind_display(), _local(d.due_at),
                         _local(d.hard_due_at), _local(d.met_at), d.get_state_display(), who], columns)
    sheets = [(ws, r, len(columns))]
    if figures is not None:
        cols = [(_("单位或人员"), 24, "text"), (_("应报"), 8, "number"), (_("按时"), 8, "number"),
                (_("迟报"), 8, "number"), (_("漏报"), 8, "number"), (_("未到期"), 8, "number"),
                (_("已逾期"), 8, "number"), (_("已豁免"), 8, "number"), (_("按时率"), 9, "pct")]
        fs = book.sheet(_("问责统计"), cols)
        rows = [(u.name, u) for u in figures.sections] + [(p.full_name or p.username, p) for p in figures.people]
        for n, (name, f) in enumerate(rows, start=1):
            book.row(fs, n, [name, f.owed, f.met, f.late, f.missed, f.open, f.overdue, f.waived, f.on_time_rate],
                     cols)
        sheets.append((fs, len(rows), len(cols)))
    return book.close(sheets)


def filename(kind: str) -> str:
    return f"{kind}-{timezone.localdate():%Y%m%d}.xlsx"

