"""The WSGI module freezes what the worker loaded (sentiment_ops/wsgi.py), and still serves."""

import gc
import importlib

import pytest
from django.test import RequestFactory


@pytest.mark.django_db
def test_the_wsgi_module_freezes_what_is_loaded_and_serves():
    gc.unfreeze()
    threshold = gc.get_threshold()
    try:
        wsgi = importlib.reload(importlib.import_module("sentiment_ops.wsgi"))
        assert gc.get_freeze_count() > 10_000  # Django, the project, every view module
        assert gc.get_threshold() == wsgi.GC_THRESHOLD
        request = RequestFactory().get("/accounts/login/")
        status = []
        body = b"".join(wsgi.application(request.environ, lambda s, headers, *a: status.append(s)))
        assert status == ["200 OK"] and b"csrfmiddlewaretoken" in body
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
