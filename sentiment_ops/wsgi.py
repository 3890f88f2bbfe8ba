"""The WSGI application (gunicorn ``sentiment_ops.wsgi``).

Once the project is loaded — the URLconf imported, so every view, form and template tag module
is — everything that exists lives as long as the worker: ``gc.freeze()`` moves it out of the
cyclic collector's sight. A full collection then walks only what requests made, not the
~150,000 objects of Django and the project (a 30–140 ms pause, about once in a hundred
requests of a home page, in the middle of someone's request). Nothing frozen is ever freed;
nothing loaded at start-up is meant to be.

The youngest generation is then collected every ``GC_THRESHOLD[0]`` allocations instead of 700:
a page allocates tens of thousands of objects, nearly all freed by their reference counts,
and the collector's passes over them were 1–7 % of a heavy page's CPU (the case page 18.5 →
17.4 ms, measured side by side in one process); the rare cycles wait a little longer."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentiment_ops.settings")
application = get_wsgi_application()


GC_THRESHOLD = (50_000, 20, 100)


def _freeze_what_is_loaded():
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module now, not on the first request)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


_freeze_what_is_loaded()
