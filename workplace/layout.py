"""The layout every page pays (templates/base.html): its assets, the navigation bar and the
navigation's list of pages, printed by Python in one pass (issue 12).

Through the template language the layout cost ~1 ms of CPU a page — some forty tags, lookups
and translations, ten ``{% url %}`` and four ``{% static %}`` — against ~0.1 ms here. What
depends only on the process and the language (links, static files, translated labels) is
worked out once per language and kept; each page then only joins the user's items, the
active one, the badges, the CSRF token and the path. The markup is the templates' own."""

from django.conf import settings
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_htmx.jinja import htmx_script

from deadlines import accountability
from incidents import permissions as perms

from . import nav
from .formats import csrf_input

_fixed: dict = {}


def _forget(**_kwargs):
    _fixed.clear()


setting_changed.connect(_forget, dispatch_uid="workplace.layout.forget")


def _text(fixed: dict) -> dict:
    """What the layout prints that depends only on the process and the active language."""
    url = {name: escape(reverse(name)) for name in (
        "home", "incident_new", "incident_list", "approvals", "todo", "notifications", "accountability",
        "set_language", "logout", "admin:index")}
    label = {key: escape(text) for key, text in (
        ("home", _("工作台")), ("incident_new", _("登记舆情")), ("incident_list", _("舆情事件")),
        ("approvals", _("审批")), ("todo", _("我的待办")))}

    def item(name, id_attr=""):
        """The item's link up to its label, as (inactive, active)."""
        head = f'\n    <li class="nav-item"{id_attr}>\n      <a class="nav-link text-nowrap'
        return (f'{head}" href="{url[name]}">', f'{head} active" href="{url[name]}" aria-current="page">')

    items = {name: (item(name), label.get(name)) for name in label}
    # Each label a literal ``_()`` call of its own, outside the f-strings below (makemessages
    # reads no call inside an f-string, nor one of a variable).
    t = {key: escape(text) for key, text in (
        ("brand", _("网络舆情应急处置")), ("toggle", _("切换导航")), ("language", _("界面语言")),
        ("admin", _("管理后台")), ("logout", _("退出登录")))}
    words = (_("剩余"), _("已超时"), _("天"), _("小时"), _("分"), _("秒"), _("请求未成功，请刷新页面后重试"))
    language = translation.get_language()
    languages = [(escape(code), " selected" if code == language else "", escape(_(name))) for code, name in settings.LANGUAGES]
    options = "".join(f'<option value="{code}"{selected}>{name}</option>' for code, selected, name in languages)
    fixed.update({
        "items": items,
        "notifications": item("notifications", ' id="nav-notifications"'),
        "notifications_label": escape(_("通知")),
        "unread": escape(_("条未读")),
        "accountability": item("accountability", ' id="nav-accountability"'),
        "accountability_label": escape(_("问责统计")),
        "brand": (f'<nav class="navbar navbar-expand-lg navbar-dark app-navbar">\n  <div class="container-fluid">\n'
                  f'    <a class="navbar-brand fw-bold" href="{url["home"]}">{t["brand"]}</a>\n'),
        "toggler": ('    <button class="navbar-toggler" type="button" data-bs-toggle="collapse" data-bs-target="#main-nav"\n'
                    '            aria-controls="main-nav" aria-expanded="false" '
                    f'aria-label="{t["toggle"]}">\n'
                    '      <span class="navbar-toggler-icon"></span>\n    </button>\n'),
        "collapse": '    <div class="collapse navbar-collapse" id="main-nav">\n',
        "language": ('      <div class="d-flex flex-wrap align-items-center gap-2 ms-lg-auto py-2 py-lg-0">\n'
                     f'        <form action="{url["set_language"]}" method="post" class="d-flex" id="language-form">'),
        "select": ('\n          <select name="language" class="form-select form-select-sm" '
                   f'aria-label="{t["language"]}" data-autosubmit>\n            {options}\n'
                   '          </select>\n        </form>\n'),
        "admin": (f'          <a class="btn btn-sm btn-outline-light text-nowrap" href="{url["admin:index"]}">'
                  f'{t["admin"]}</a>\n'),
        "logout": (f'          <form method="post" action="{url["logout"]}">'),
        "logout_button": ('\n            <button class="btn btn-sm btn-outline-light text-nowrap" type="submit">'
                          f'{t["logout"]}</button>\n          </form>\n'),
        "end": "      </div>\n    </div>\n  </div>\n</nav>",
        "i18n": ('<div id="wp-i18n" hidden data-left="{}" data-overdue="{}"\n     data-d="{}" data-h="{}" data-m="{}" '
                 'data-s="{}"\n     data-failed="{}"></div>').format(*map(escape, words)),
    })
    return fixed


def _language_text() -> dict:
    """``_text`` of the active language (the URL configuration and script prefix included)."""
    key = (translation.get_language(), get_script_prefix(), get_urlconf())
    fixed = _fixed.get(key)
    if fixed is None:
        fixed = _fixed[key] = _text({})
    return fixed


def assets() -> str:
    """The stylesheets and scripts of every page (their static URLs worked out once)."""
    text = _fixed.get("assets")
    if text is None:
        text = _fixed["assets"] = mark_safe(
            f'<link rel="stylesheet" href="{escape(static("vendor/bootstrap/css/bootstrap.min.css"))}">\n'
            f'  <link rel="stylesheet" href="{escape(static("css/app.css"))}">\n'
            f'  {htmx_script(minified=True, version=2, extensions="", nonce=None)}\n'
            f'  <script src="{escape(static("vendor/bootstrap/js/bootstrap.bundle.min.js"))}" defer></script>\n'
            f'  <script src="{escape(static("workplace/workplace.js"))}" defer></script>')
    return text


def i18n() -> str:
    """The countdown script's words (``#wp-i18n``) in the active language."""
    return mark_safe(_language_text()["i18n"])


def _item(parts, label: str, active: bool, badge: str = "") -> str:
    return f"{parts[1] if active else parts[0]}{label}{badge}</a>\n    </li>"


def pages(request, oob=False) -> str:
    """The navigation's list of pages (``#nav-pages``): those relevant to the user's roles,
    with what is waiting for them, the current one active. ``oob``: the same list swapped in
    by an htmx response, so the counts follow the user's actions."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    fixed = _language_text()
    items = fixed["items"]
    htmx = getattr(request, "htmx", None)
    path = (htmx.current_url_abs_path if htmx and htmx.current_url_abs_path else request.path).split("?")[0]
    out = ['<ul class="navbar-nav me-auto mb-2 mb-lg-0" id="nav-pages"', ' hx-swap-oob="true">' if oob else ">",
           _item(*items["home"], path == "/")]
    if perms.is_duty(user) or perms.is_command(user):
        out.append(_item(*items["incident_new"], path.startswith("/incidents/new")))
    out.append(_item(*items["incident_list"], path.startswith("/incidents/") and not path.startswith("/incidents/new")))
    if perms.body_levels(user):
        out.append(_item(*items["approvals"], path.startswith("/approvals"), _badge(nav.badges(request)["approvals"])))
    duties = nav.has_duties(user)
    if duties:
        out.append(_item(*items["todo"], path.startswith("/todo"), _badge(nav.badges(request)["todo"])))
    # The notification centre, with its unread badge, is everyone's; the accountability page
    # is for those the service's scope lets see some rows (a member of a section or body
    # always may, so the scope is asked only of the others).
    unread = nav.shown(nav.unread(request))
    out.append(_item(fixed["notifications"], fixed["notifications_label"], path.startswith("/notifications"),
                     f' <span class="badge rounded-pill text-bg-danger" id="unread-badge">{unread}'
                     f'<span class="visually-hidden">{fixed["unread"]}</span></span>' if unread else ""))
    if duties or accountability.scope_for(user) is not None:
        out.append(_item(fixed["accountability"], fixed["accountability_label"], path.startswith("/accountability")))
    out.append("\n</ul>")
    return mark_safe("".join(out))


def _badge(count) -> str:
    shown = nav.shown(count)
    return f' <span class="badge rounded-pill text-bg-warning">{shown}</span>' if shown else ""


def navbar(context) -> str:
    """The navigation bar (``<nav>``): the brand, the user's pages, the language form, who is
    signed in, the admin link and the logout form."""
    fixed = _language_text()
    request = context.get("request")
    user = context.get("user")
    signed_in = user is not None and user.is_authenticated
    token = context.get("csrf_token")
    csrf = csrf_input(token)
    out = [fixed["brand"]]
    if signed_in:
        out.append(fixed["toggler"])
    out += [fixed["collapse"], pages(request) if request is not None else "", "\n",
            fixed["language"], csrf, '\n          <input name="next" type="hidden" value="',
            escape(request.get_full_path()) if request is not None else "", '">', fixed["select"]]
    if signed_in:
        out += [f'          <span class="navbar-text text-white small text-nowrap" id="whoami">{escape(user)}</span>\n']
        if user.is_staff:
            out.append(fixed["admin"])
        out += [fixed["logout"], csrf, fixed["logout_button"]]
    out.append(fixed["end"])
    return mark_safe("".join(out))
