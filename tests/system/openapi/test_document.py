"""schemathesis against the real service, with the committed document: every answer is one the document allows.

docs/openapi.json is what the service serves for the default settings (the
app tests fail when the two differ), so this is also a check of the served
document. For each documented operation schemathesis sends the document's
examples, boundary cases (coverage) and generated requests, valid and invalid
(fuzzing), and checks each answer: never a 5xx, a documented status, content
type and body, and the documented headers (Retry-After on a 429 or 503);
and that every request the document calls valid is accepted (positive data
acceptance): a client generated from it never sends what the service refuses.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from collector.openapi import document as document_for
from collector.settings import load_settings
from tests.processes import ROOT
from tests.servers import Service, service_env

pytestmark = pytest.mark.system

CHECKS = [
    not_a_server_error,
    positive_data_acceptance,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# Not `schemathesis.pytest.from_fixture` (the served document): schemathesis
# 4.32's lazy schemas set a pytest-internal attribute that pytest 9 removed.
document = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """One service for every operation's run (start_service is per test: five starts on a 2-core CI
    machine are most of this test's time); checked for logged bugs like start_service's."""
    path = tmp_path_factory.mktemp("openapi")
    # A generous limit: the run is about the contract, not about being refused with 429.
    env = service_env(path / "data", rate_limit="100000 per minute")
    server = Service(path / "data", env, path / "gunicorn.log").start()
    yield server
    server.stop()
    errors = server.server_errors()
    assert not errors, "the service logged a bug:\n" + "\n\n".join(errors[:5])


@document.parametrize()
@settings(max_examples=50, deadline=5000, suppress_health_check=list(HealthCheck))
def test_every_answer_is_one_the_document_allows(case, service):
    response = case.call(base_url=service.url, timeout=10)
    case.validate_response(response, checks=CHECKS)


# With a tracking plan in refuse mode: every event the document calls valid must pass
# the plan (positive data acceptance), or the service would refuse what a client
# generated from the document sends. Two plans: six types with other types refused
# (a discriminator), and two with others allowed (a branch for them, `not` the plan's
# types), with 2020-12 keywords that OpenAPI 3.0 words otherwise. /collect/event only:
# the plan describes its events (the Segment routes' messages are not drawn from it).
PLANS = {
    "refuse": ROOT / "tests" / "unit" / "plan" / "data" / "shop.json",
    "allow": ROOT / "tests" / "system" / "openapi" / "data" / "allow.json",
}


def plan_settings(others: str) -> dict[str, str]:
    return {"tracking_plan": str(PLANS[others]), "tracking_plan_mode": "refuse"}


def planned_document(others: str):
    settings = load_settings(environ={"COLLECTOR_DATA_DIR": str(ROOT / "data")}, overrides=plan_settings(others))
    return schemathesis.openapi.from_dict(document_for(settings)).include(path="/collect/event")


planned = planned_document("refuse")
planned_allowing = planned_document("allow")


def start_planned(tmp_path_factory, others: str):
    path = tmp_path_factory.mktemp(f"openapi-plan-{others}")
    env = service_env(path / "data", rate_limit="100000 per minute", **plan_settings(others))
    return Service(path / "data", env, path / "gunicorn.log").start()


def stop_planned(server) -> None:
    server.stop()
    errors = server.server_errors()
    assert not errors, "the service logged a bug:\n" + "\n\n".join(errors[:5])


@pytest.fixture(scope="module")
def planned_service(tmp_path_factory):
    server = start_planned(tmp_path_factory, "refuse")
    yield server
    stop_planned(server)


@pytest.fixture(scope="module")
def allowing_service(tmp_path_factory):
    server = start_planned(tmp_path_factory, "allow")
    yield server
    stop_planned(server)


def test_the_service_serves_the_document_with_its_plan(planned_service):
    served = requests.get(planned_service.url + "/openapi.json", timeout=10).json()
    assert served == document_for(load_settings(environ=planned_service.env))


@planned.parametrize()
@settings(max_examples=50, deadline=5000, suppress_health_check=list(HealthCheck))
def test_with_a_plan_every_answer_is_one_the_document_allows(case, planned_service):
    response = case.call(base_url=planned_service.url, timeout=10)
    case.validate_response(response, checks=CHECKS)


@planned_allowing.parametrize()
@settings(max_examples=50, deadline=5000, suppress_health_check=list(HealthCheck))
def test_with_a_plan_allowing_other_types_every_answer_is_one_the_document_allows(case, allowing_service):
    response = case.call(base_url=allowing_service.url, timeout=10)
    case.validate_response(response, checks=CHECKS)

