"""Bots told apart by the real service under gunicorn (two workers), on real agents of the corpus.

tests/data/user_agents/ holds the strings (README.md: their sources and
licences); each worker classifies with the classifier it built at start-up.
"""

from __future__ import annotations

import orjson
import pytest
import requests

from tests.processes import ROOT

pytestmark = pytest.mark.system

CORPUS = ROOT / "tests" / "data" / "user_agents"
# A bot of each kind, by the token that names it, and what the service must store.
BOTS = {
    "Googlebot/2.1": {"name": "Googlebot", "category": "crawler"},
    "HeadlessChrome": {"name": "HeadlessChrome", "category": "headless"},
    "UptimeRobot": {"name": "UptimeRobot", "category": "monitor"},
    "Slackbot": {"name": "Slackbot", "category": "preview"},
}


def corpus(name: str) -> list[tuple[str, str]]:
    """(kind, user agent) of each line of a corpus file."""
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [(kind, agent) for kind, _, agent in (line.split("\t") for line in lines if not line.startswith("#"))]


def bot_agent(token: str) -> str:
    return next(agent for _, agent in corpus("bots.tsv") if token in agent)


def people() -> list[str]:
    """Every 8th person of the corpus: desktop, mobile, in-app web views and back-end HTTP clients."""
    chosen = corpus("people.tsv")[::8]
    assert {kind for kind, _ in chosen} == {"desktop", "mobile", "in-app", "http-client"}
    return [agent for _, agent in chosen]


def send(service, agent: str, *events: dict):
    return service.post({"messageBody": list(events or [{"eventType": "page_view"}])}, headers={"User-Agent": agent})


def test_bots_are_flagged_and_no_ordinary_browser_is(start_service):
    service = start_service(workers="2")
    service.wait_for_workers(2)
    for token in BOTS:
        assert send(service, bot_agent(token)).status_code == 201
    humans = people()
    for agent in humans:
        assert send(service, agent).status_code == 201, agent
    stored = service.events()
    flagged = {event["client"]["userAgent"]: event["client"].get("bot") for event in stored}
    assert {token: flagged[bot_agent(token)] for token in BOTS} == BOTS
    assert [agent for agent in humans if flagged[agent] is not None] == [], "a person flagged as a bot"


def test_a_driven_browser_is_flagged_headless_per_event(start_service):
    service = start_service()
    browser = people()[0]
    driven = {"eventType": "page_view", "context": {"webdriver": True}}
    assert send(service, browser, {"eventType": "page_view"}, driven).status_code == 201
    person, bot = service.events()
    assert "bot" not in person["client"] and bot["client"]["bot"] == {"name": "WebDriver", "category": "headless"}


def test_refuse_answers_403_stores_nothing_and_keeps_no_dead_letter(start_service):
    service = start_service(bots="refuse", dead_letter="on")
    crawler = send(service, bot_agent("Googlebot/2.1"))
    assert crawler.status_code == 403
    assert orjson.loads(crawler.content)["code"] == "bot_refused"
    driven = send(service, people()[0], {"eventType": "page_view"}, {"eventType": "a", "context": {"webdriver": True}})
    assert driven.status_code == 403
    assert service.events() == []
    assert not (service.data_dir / "deadletters").exists() or not any((service.data_dir / "deadletters").iterdir())
    assert send(service, people()[0]).status_code == 201, "people still get through"
    assert len(service.events()) == 1
    metrics = requests.get(service.url + "/metrics", timeout=30).text
    assert 'collector_rejected_requests_total{code="bot_refused"} 2.0' in metrics
    assert 'collector_bot_events_total{category="crawler",outcome="refused"} 1.0' in metrics


def test_off_stores_no_bot_key(start_service):
    service = start_service(bots="off")
    assert send(service, bot_agent("Googlebot/2.1")).status_code == 201
    [event] = service.events()
    assert "bot" not in event["client"]
