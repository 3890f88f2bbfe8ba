"""Every admin page an administrator can open renders, and the record is read-only there."""

import pytest
from django.contrib import admin
from django.urls import reverse

from incidents.models import TimelineEvent

from .api import Api


@pytest.mark.django_db
def test_every_admin_changelist_and_record_renders(admin_client, demo):
    api = Api(demo)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=3, subject="s", scope="s", matters="m", measures="m", delivery="fax")
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change


@pytest.mark.django_db
def test_the_timeline_cannot_be_edited_in_the_admin(admin_client, demo):

    Api(demo).log()
    event = TimelineEvent.objects.first()
    url = reverse("admin:incidents_timelineevent_change", args=[event.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="verb"' not in page  # shown, not editable
    assert admin_client.post(url, {"verb": "forged"}).status_code == 403
