"""我的待办 (issue 12): one page of what the user's units owe now, soonest first, and the notices
their sections have to sign — read as values in statements compiled once per process, and each
row printed here, forms included, with the markup workplace/_todo_list.html had (the template
keeps the page around them). The deadlines and their capped count are ONE statement
(``paging.page_counted``); the notices' keys, read at once up to the cap, and the page's notices
two more."""

from collections import namedtuple
from html import escape  # Django's ``escape`` without its lazy-string wrapper: the same text

from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from deadlines import selectors as deadline_reads
from deadlines.models import Deadline
from early_warnings import selectors as warning_reads
from early_warnings.models import WarningNotice
from incidents import permissions as perms
from organization.selectors import identity_key, units_of
from sentiment_ops import prepared

from .formats import csrf_input, escaped_labels, provisional_mark, row_urls
from .paging import page_counted, page_of
from .templatetags.workplace import level_badge, urgency

# What the tests and the page's callers read of a row (``context["deadlines"]`` and
# ``context["receipts"]``): the selectors' values by name.
Owed = namedtuple("Owed", deadline_reads.OWED_COLUMNS)
Receipt = namedtuple("Receipt", warning_reads.RECEIPT_COLUMNS)


def context(request, params) -> dict:
    """The template context of 我的待办 (``params``: the query string, or the list's hidden
    fields on a POST)."""
    user = request.user
    now = timezone.now()
    key = ("workplace.todo", identity_key(user))
    page = page_counted(key, lambda: deadline_reads.owed_listed(user),
                        lambda: deadline_reads.owed_parts(user), params.get("page"))
    page.object_list = deadlines = [Owed._make(row) for row in page.object_list]
    receipts = _receipts(user, key, params.get("signpage"))
    token = get_token(request) if deadlines or receipts.object_list else ""
    units = {(unit.kind, unit.pk): unit for unit in units_of(user)}
    return {"page": page, "deadlines": deadlines, "receipts": receipts.object_list, "receipts_page": receipts,
            "deadline_items": _deadline_items(user, deadlines, now, units, token, page.number),
            "receipt_items": _receipt_items(user, receipts.object_list, units, token, page.number),
            "now": now}


def _receipts(user, key, number):
    """The page ``number`` of the notices to sign: their keys read at once up to the count's cap
    (in their notices' order, from the section's unsigned receipts: a few hundred keys, and a
    member who sees only some incidents has each receipt's incident probed anyway), counted
    and paged here, then the page's rows."""
    page = page_of([], number)  # the cap of that page
    limit = page.paginator.limit
    keys = [row[0] for row in prepared.fetch((*key, "receipt_keys", limit),
                                             lambda _now: warning_reads.unsigned_keys(user)[: limit + 1])]
    page = page_of(keys, number)
    ids = list(page.object_list)
    build = prepared.Keyed(key, lambda keys: warning_reads.receipt_values(user, keys))  # kept per identity
    found = {row[0]: Receipt._make(row) for row in prepared.by_ids(key, build, ids)} if ids else {}
    page.object_list = [found[pk] for pk in ids if pk in found]
    return page


def _deadline_items(user, deadlines, now, units, token, number) -> str:
    """Each deadline's ``<li>`` as the template printed it: urgency, kind, owner, due and latest
    times, the countdown, the link to the incident's reports and — for a status report owed by
    one of the user's sections — the zero report's form."""
    if not deadlines:
        return ""
    mine = {unit.pk for unit in units.values() if unit.kind == "section"}
    kinds, states = escaped_labels(Deadline, "kind"), escaped_labels(Deadline, "state")
    panel, report = row_urls("incident_detail"), row_urls("incident_action", "report")
    due_word, latest, zero, handle = escape(_("到期")), escape(_("最迟")), escape(_("零报告")), escape(_("去处理"))
    provisional = provisional_mark()
    csrf = csrf_input(token)
    items = []
    for d in deadlines:
        url = panel(d.incident_id) + "#panel-reports"
        urgent = urgency(d.due_at, now)
        due = timezone.localtime(d.due_at)
        due_text = due.strftime("%m-%d %H:%M")
        missed = f' <span class="badge text-bg-danger">{states["missed"]}</span>' if d.state == "missed" else ""
        hard = f" · {latest} {timezone.localtime(d.hard_due_at).strftime('%m-%d %H:%M')}" if d.hard_due_at else ""
        if d.kind == "status" and d.owner_section_id in mine:  # a zero report answers it
            action = report(d.incident_id)
            form = (f'\n                <form method="post" action="{action}" hx-post="{action}" hx-target="#todo" '
                    f'hx-swap="outerHTML" class="d-inline" novalidate>{csrf}\n'
                    f'                  <input type="hidden" name="_from" value="todo"><input type="hidden" name="page" '
                    f'value="{number}"><input type="hidden" name="_form" value="zero_report">\n'
                    f'                  <input type="hidden" name="kind" value="status"><input type="hidden" '
                    f'name="section" value="{escape(d.owner_code)}"><input type="hidden" name="zero" value="true">\n'
                    f'                  <button class="btn btn-warning btn-sm" type="submit">{zero}</button>\n'
                    f'                </form>\n              ')
        else:
            form = ""
        items.append(
            f'\n        <li class="list-group-item urgency-row {urgent}" data-kind="{escape(d.kind)}" '
            f'data-owner="{escape(d.owner_code)}">\n'
            f'          <div class="row g-2 align-items-center">\n'
            f'            <div class="col-md-6">\n'
            f'              <div class="fw-semibold">{kinds.get(d.kind, escape(d.kind))}{missed}</div>\n'
            f'              <a class="d-block text-truncate" href="{url}">#{d.incident_id} '
            f'{escape(perms.shown_title(d.title, d.content_ok, d.incident_id))}</a>\n'
            f'              <div class="small text-secondary">{escape(d.owner_name)} · {due_word} {due_text}'
            f'{provisional if d.provisional else ""}\n{hard}</div>\n'
            f'            </div>\n'
            f'            <div class="col-6 col-md-3 countdown-cell"><span class="countdown {urgent}" '
            f'data-due="{due.isoformat()}">{due_text}</span>\n</div>\n'
            f'            <div class="col-6 col-md-3 text-end">\n'
            f'              {form}\n'
            f'              <a class="btn btn-outline-primary btn-sm" href="{url}">{handle}</a>\n'
            f'            </div>\n'
            f'          </div>\n'
            f'        </li>\n      ')
    return mark_safe("".join(items))  # every value above escaped


def _receipt_items(user, receipts, units, token, number) -> str:
    """Each notice to sign's ``<li>`` as the template printed it, with its 签收 form."""
    if not receipts:
        return ""
    kinds = escaped_labels(WarningNotice, "kind")
    case, sign = row_urls("incident_detail"), row_urls("incident_action", "sign")
    issued_word, sign_word = escape(_("发布于")), escape(_("签收"))
    csrf = csrf_input(token)
    badges = {}
    items = []
    for r in receipts:
        section = units[("section", r.section_id)]
        badge = badges.get(r.notice__level)
        if badge is None:
            badge = badges[r.notice__level] = level_badge(r.notice__level)
        action = sign(r.notice__incident_id)
        issued = timezone.localtime(r.notice__issued_at).strftime("%m-%d %H:%M")
        items.append(
            f'\n        <li class="list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2">\n'
            f'          <div>\n'
            f'            {badge} <span class="badge text-bg-light border">'
            f'{kinds.get(r.notice__kind, escape(r.notice__kind))}</span>\n'
            f'            <a href="{case(r.notice__incident_id)}#panel-warning">#{r.notice__incident_id} '
            f'{escape(perms.shown_title(r.notice__incident__title, r.content_ok, r.notice__incident_id))}</a>\n'
            f'            <div class="small text-secondary">{escape(section.name)} · {issued_word} {issued}</div>\n'
            f'          </div>\n'
            f'          <form method="post" action="{action}" hx-post="{action}" hx-target="#todo" hx-swap="outerHTML" '
            f'novalidate>{csrf}\n'
            f'            <input type="hidden" name="_from" value="todo"><input type="hidden" name="page" '
            f'value="{number}"><input type="hidden" name="_form" value="sign">\n'
            f'            <input type="hidden" name="notice" value="{r.notice_id}"><input type="hidden" '
            f'name="section" value="{escape(section.code)}">\n'
            f'            <button class="btn btn-success btn-sm" type="submit">{sign_word}</button>\n'
            f'          </form>\n'
            f'        </li>\n      ')
    return mark_safe("".join(items))  # every value above escaped
