"""Issue 14, "no 500": property-based requests to every operation of the OpenAPI schema.
Schemathesis turns the schema into Hypothesis strategies — valid payloads (positive) and
invalid ones (negative: wrong types, missing fields, out-of-range values) — and each is sent
through Django's test client as the command group (who may attempt every action) against a
real incident. No answer may be a 5xx, and every documented answer must match its schema
(schemathesis' ``not_a_server_error`` and ``response_schema_conformance`` checks).

Bounded for CI: ``2 × API_PROPERTY_EXAMPLES`` (default 4) examples per operation drawn from
both modes, derandomized, one fixture set-up for all (under a minute on the 2-core machine);
the terminal summary prints the answers per operation. ``API_PROPERTY_ONLY=judge`` runs one."""

import collections
import datetime as dt
import json
import os
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from .api import SHANGHAI, Api

EXAMPLES = int(os.environ.get("API_PROPERTY_EXAMPLES", "4"))
DOCUMENT = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = [op.ok() for op in SCHEMA.get_all_operations()]
COVERED: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


def as_schemathesis_response(response, case) -> Response:
    """Django's test response in the shape schemathesis validates."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return Response(status_code=response.status_code, headers={k: [v] for k, v in response.headers.items()},
                    content=content, request=requests.Request(case.method, f"http://testserver{case.formatted_path}")
                    .prepare(), elapsed=0.0, message=response.reason_phrase, encoding="utf-8",
                    http_version="1.1", verify=True)


def send(client, case):
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": str(v) for k, v in (case.headers or {}).items()
               if k.lower() not in ("authorization", "cookie", "content-type", "content-length")}
    if case.method.upper() in ("GET", "DELETE") or case.body is NOT_SET or case.body is None:
        return client.generic(case.method.upper(), path, **headers)
    if (case.media_type or "").startswith(("multipart/", "application/x-www-form-urlencoded")):
        return client.post(path, _form(case.body), format="multipart", **headers)
    return client.generic(case.method.upper(), path, json.dumps(case.body, default=str),
                          content_type="application/json", **headers)


def _form(body) -> dict:
    """A generated form body as a browser would send it: files as uploads, the rest as text."""
    form = {}
    for name, value in (body.items() if isinstance(body, dict) else []):
        if value is None:
            continue
        if isinstance(value, bytes):
            form[name] = SimpleUploadedFile(f"{name}.bin", value)
        elif isinstance(value, dict | list):
            form[name] = json.dumps(value)
        else:
            form[name] = str(value)
    return form


def _media_type(operation) -> str | None:
    """JSON where the operation takes it (the form encodings the parsers also accept say the
    same), the operation's own otherwise (attachments: multipart)."""
    content = (operation.definition.raw.get("requestBody") or {}).get("content", {})
    return "application/json" if "application/json" in content else None


@pytest.fixture
def incident(demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    api = Api(demo)
    created = api.log(sections=["petition"], discovered_at=dt.datetime.now(SHANGHAI).isoformat())
    api.act("command", created["id"], "judge", veracity="true", severity="major")
    return created["id"]


def check_operation(operation, client, incident) -> str | None:
    """Hypothesis over one operation; the failure, if any, as text."""
    path_parameters = {"id": incident} if "{id}" in operation.path else None
    strategy = st.one_of(*[operation.as_strategy(generation_mode=mode, path_parameters=path_parameters,
                                                 media_type=_media_type(operation))
                           for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])
    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=2 * EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def property_holds(case):
        response = send(client, case)
        COVERED[label][response.status_code] += 1
        case.validate_response(as_schemathesis_response(response, case),
                               checks=[not_a_server_error, response_schema_conformance])

    try:
        property_holds()
    except Exception as failure:  # noqa: BLE001 — collected, reported together below
        return f"{label}:\n" + "\n".join(_messages(failure))
    return None


def _messages(failure) -> list[str]:
    if isinstance(failure, BaseExceptionGroup):
        return [m for sub in failure.exceptions for m in _messages(sub)]
    return [f"  {failure.__class__.__name__}: {str(failure)[:1500]}"]


def test_no_operation_answers_5xx_or_off_its_schema(incident, demo):
    """One database, one incident, every operation in turn (one fixture set-up keeps it fast)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(demo["command"])
    only = os.environ.get("API_PROPERTY_ONLY")  # e.g. "judge": one operation while debugging
    failures = [f for op in OPERATIONS if (not only or only in op.path)
                and (f := check_operation(op, client, incident))]
    assert not failures, "\n\n".join(failures)
    assert only or len(COVERED) == len(OPERATIONS)
