from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Role


@login_required
def home(request):
    user = request.user
    return render(request, "organization/home.html", {
        "roles": [Role(r).label for r in Role.values if r in user.roles],
        "section_memberships": user.section_memberships.select_related("section").order_by("section__order"),
        "bodies": user.bodies.order_by("code"),
    })
