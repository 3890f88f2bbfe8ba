"""Rendering: the unit's template (or the built-in layout) filled by docxtpl, then PDF."""

import io

from django.utils import translation
from docxtpl import DocxTemplate

from organization.models import UnitPolicy

from . import convert, layout, selectors
from .content import compose
from .models import BULLETIN_KINDS


def template_bytes(kind: str) -> bytes:
    own = selectors.template_for(kind)
    if own:
        with own.file.open("rb") as f:
            return f.read()
    return layout.default_template(kind in BULLETIN_KINDS)


def docx(*, incident, kind: str, item, issued) -> bytes:
    """The Word document, always in Chinese whatever the reader's interface language."""
    with translation.override("zh-hans"):
        context = compose(incident=incident, kind=kind, item=item, issued=issued,
                          policy=selectors.policy(), unit_name=UnitPolicy.current().unit_name)
        template = DocxTemplate(io.BytesIO(template_bytes(kind)))
        template.render(context, autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


def pdf(**kwargs) -> bytes:
    return convert.to_pdf(docx(**kwargs))
