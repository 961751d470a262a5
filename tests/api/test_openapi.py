"""The API answers as its OpenAPI document says, for whatever schemathesis sends (no 500s)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.test_api import _nominate, _token_for
from tests.nominations.conftest import build_world


@pytest.fixture
def token(app):
    world = build_world(app)
    _nominate(app, world)
    return _token_for(app, world.partner_host)


def test_api_conforms_to_its_openapi_document(app, token):
    # schemathesis' pytest plugin does not load under this pytest; its strategies work alone.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case):
            # schemathesis' WSGI transport does not undo Content-Encoding: ask for the body as is.
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
            )

        conforms()


def test_the_document_is_served_and_describes_every_route(app):
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {"/api/v1" + path for path in document["paths"]}
    routes = {
        rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
    }
    assert routes == described
