"""``{% setup_checklist as checklist %}`` on the admin home (templates/admin/index.html)."""

from django import template

from .. import checklist as items

register = template.Library()


@register.simple_tag(takes_context=True)
def setup_checklist(context):
    user = context["request"].user
    if not user.is_superuser:
        return None
    return {"items": items.checklist(user), "channels": items.channels(user)}
