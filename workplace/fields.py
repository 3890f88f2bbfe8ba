"""One labelled input with its value and its errors, as the ``{% field %}`` tag prints it
(issue 12: the case page has some fifty of them, and rendering a template for each was
close to half of the page's own rendering). The markup is the Bootstrap form markup the
pages have always had; every value is printed as a template variable would print it
(``render_value_in_context``: local time, localisation, escaping)."""

from html import escape as html_escape

from django.template.base import render_value_in_context
from django.utils.safestring import SafeString, mark_safe


def render_field(spec: dict, context) -> str:
    """The input of ``spec`` (``workplace.templatetags.workplace.field``'s dict)."""
    autoescape = context.autoescape

    def v(value):
        # What render_value_in_context does with a string: a safe one as it is (a translated
        # literal of the template), a plain one escaped (django.utils.html.escape's
        # html.escape, without its check for lazy arguments).
        kind = type(value)
        if kind is SafeString:
            return value
        if kind is str:
            return html_escape(value) if autoescape else value
        return render_value_in_context(value, context)

    kind, errors, attrs = spec["type"], spec["errors"], spec["attrs"]
    field_id, name = v(spec["id"]), v(spec["name"])
    invalid = " is-invalid" if errors else ""
    help_html = f'<div class="form-text">{v(spec["help"])}</div>' if spec["help"] else ""
    star = ' <span class="text-danger">*</span>' if spec["required"] else ""
    if kind == "checkbox":
        feedback = "".join(f'<div class="invalid-feedback">{v(e)}</div>' for e in errors)
        html = (f'\n<div class="form-check{" form-check-inline" if spec["inline"] else ""} mb-2">\n'
                f'  <input class="form-check-input{invalid}" type="checkbox" id="{field_id}" name="{name}"'
                f'{" checked" if spec["checked"] else ""} {v(attrs)}>\n'
                f'  <label class="form-check-label" for="{field_id}">{v(spec["label"])}</label>\n'
                f'  {feedback}\n  {help_html}\n</div>\n')
    elif kind in ("checkboxes", "radios"):
        box = "radio" if kind == "radios" else "checkbox"
        options = "".join(
            f'\n    <div class="form-check form-check-inline">\n'
            f'      <input class="form-check-input{invalid}" type="{box}" id="{field_id}_{n}" name="{name}" '
            f'value="{v(value)}"{" checked" if selected else ""} {v(attrs)}>\n'
            f'      <label class="form-check-label" for="{field_id}_{n}">{v(text)}</label>\n    </div>\n  '
            for n, (value, text, selected) in enumerate(spec["options"], start=1))
        feedback = "".join(f'<div class="invalid-feedback d-block">{v(e)}</div>' for e in errors)
        html = (f'\n<fieldset class="mb-2">\n'
                f'  <legend class="form-label fs-6 mb-1">{v(spec["label"])}{star}</legend>\n'
                f'  <div class="{"is-invalid" if errors else ""}">\n  {options}\n  </div>\n'
                f'  {feedback}\n  {help_html}\n</fieldset>\n')
    else:
        sm = spec["small"]
        placeholder = f' placeholder="{v(spec["placeholder"])}"' if spec["placeholder"] else ""
        if kind == "textarea":
            control = (f'\n    <textarea class="form-control{" form-control-sm" if sm else ""}{invalid}" id="{field_id}" '
                       f'name="{name}" rows="{v(spec["rows"])}"{placeholder} {v(attrs)}>{v(spec["value"])}</textarea>\n  ')
        elif kind == "select":
            blank = f'<option value="">{v(spec["blank"])}</option>' if spec["blank"] is not None else ""
            options = "".join(f'<option value="{v(value)}"{" selected" if selected else ""}>{v(text)}</option>'
                              for value, text, selected in spec["options"])
            control = (f'\n    <select class="form-select{" form-select-sm" if sm else ""}{invalid}" id="{field_id}" '
                       f'name="{name}" {v(attrs)}>\n      {blank}\n      {options}\n    </select>\n  ')
        elif kind == "file":
            control = (f'\n    <input class="form-control{" form-control-sm" if sm else ""}{invalid}" type="file" '
                       f'id="{field_id}" name="{name}" {v(attrs)}>\n  ')
        else:
            control = (f'\n    <input class="form-control{" form-control-sm" if sm else ""}{invalid}" type="{v(kind)}" '
                       f'id="{field_id}" name="{name}" value="{v(spec["value"])}"{placeholder} {v(attrs)}>\n  ')
        feedback = "".join(f'<div class="invalid-feedback">{v(e)}</div>' for e in errors)
        html = (f'\n<div class="mb-2">\n'
                f'  <label class="form-label{" small mb-1" if sm else ""}" for="{field_id}">{v(spec["label"])}{star}</label>\n'
                f'  {control}\n  {feedback}\n  {help_html}\n</div>\n')
    return mark_safe(html + "\n")  # every value above escaped by render_value_in_context
