"""Reads of incidents. Every list, search, detail and download starts here: ``visible`` is
the one visibility rule (R1–R6) applied, ``get_incident_for`` the one access function."""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils.translation import gettext as _

from . import permissions as perms
from .models import Incident, Source, State


def visible(user, queryset=None):
    """The incidents ``user`` may see (no duplicates: every branch of the rule is a subquery
    or a one-to-one join)."""
    qs = Incident.objects.all() if queryset is None else queryset
    return qs.filter(perms.visibility_filter(user)) if user.is_authenticated else qs.none()


def visible_pks(user):
    """The visible incidents as a subquery of primary keys (``incident__in=…``)."""
    return visible(user).values("pk")


def awaiting_judgment(user):
    """待研判: the incidents logged and not yet judged that ``user`` sees, oldest first (the
    command group's queue on the dashboard)."""
    return (visible(user).filter(judged_at__isnull=True).exclude(state=State.CLOSED)
            .prefetch_related("sections").order_by("reported_at", "pk"))


def get_incident_for(user, pk, *, queryset=None) -> Incident:
    """The one access function: the incident if ``user`` may see it, else 404 (never saying
    whether it exists)."""
    try:
        return visible(user, queryset).get(pk=pk)
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# Each term adds eight ILIKE conditions and a subquery: the work of one search is bounded here
# (400 terms took 24 s, 2,000 terms half an hour in PostgreSQL).
SEARCH_MAX_TERMS = 8
SEARCH_MAX_TERM_LENGTH = 50


def validate_search(q: str) -> None:
    """The search's bounds: at most ``SEARCH_MAX_TERMS`` terms of at most
    ``SEARCH_MAX_TERM_LENGTH`` characters each (ValidationError, 400 on ``q``)."""
    terms = (q or "").split()
    if len(terms) > SEARCH_MAX_TERMS or any(len(t) > SEARCH_MAX_TERM_LENGTH for t in terms):
        raise ValidationError(
            _("搜索词最多 %(terms)s 个（以空格分隔），每个不超过 %(length)s 个字符。")
            % {"terms": SEARCH_MAX_TERMS, "length": SEARCH_MAX_TERM_LENGTH},
            code="search_too_long")


def search(qs, user, q: str):
    """Every whitespace-separated term must appear (Chinese has no word breaks, so terms
    are matched as substrings) in the title, summary, keywords, background, concerns or a
    source. A classified incident matches on content only for those who may read it (R54).
    Bounded by ``validate_search``."""
    validate_search(q)
    readable = perms.content_readable(user)
    for term in q.split():
        in_sources = Source.objects.filter(incident=OuterRef("pk")).filter(
            Q(url__icontains=term) | Q(title__icontains=term))
        match = (Q(title__icontains=term) | Q(summary__icontains=term) | Q(keywords__icontains=term)
                 | Q(background__icontains=term) | Q(netizen_concerns__icontains=term)
                 | Q(key_contradiction__icontains=term) | Q(related_groups__icontains=term)
                 | Q(Exists(in_sources)))
        qs = qs.filter(match & readable)
    return qs
