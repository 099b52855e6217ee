"""The bot step: a request's User-Agent (and each event's webdriver hint) to its bots, as COLLECTOR_BOTS says."""

import pytest

from collector.bots import WEBDRIVER, Bot
from collector.errors import CollectorError
from collector.ingest.botcheck import BotCheck, RequestBots, says_webdriver

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DRIVEN = {"eventType": "page_view", "context": {"webdriver": True}}
PERSON = {"eventType": "page_view", "context": {"webdriver": False}}


def test_flag_names_the_bot_of_the_user_agent_for_every_event():
    bots = BotCheck("flag").check([PERSON, DRIVEN], GOOGLEBOT)
    assert [bots.of(event) for event in (PERSON, DRIVEN)] == [Bot("Googlebot", "crawler")] * 2


def test_a_browser_that_says_webdriver_is_flagged_per_event():
    bots = BotCheck("flag").check([PERSON, DRIVEN], FIREFOX)
    assert (bots.of(PERSON), bots.of(DRIVEN)) == (None, WEBDRIVER)
    assert bots.categories([PERSON, DRIVEN, DRIVEN]) == {"headless": 2}


@pytest.mark.parametrize("context", [{"webdriver": "true"}, {"webdriver": 1}, {}, None, "webdriver"])
def test_only_a_true_webdriver_in_an_object_context_says_so(context):
    assert not says_webdriver({"eventType": "a", "context": context})


def test_refuse_refuses_a_bot_agent_with_403_naming_it():
    with pytest.raises(CollectorError) as caught:
        BotCheck("refuse").check([PERSON], GOOGLEBOT)
    assert (caught.value.status, caught.value.code) == (403, "bot_refused")
    assert "Googlebot (crawler)" in caught.value.message


def test_refuse_refuses_a_whole_batch_for_one_webdriver_event():
    with pytest.raises(CollectorError) as caught:
        BotCheck("refuse").check([PERSON, PERSON, DRIVEN], FIREFOX)
    assert caught.value.code == "bot_refused"
    assert "event 2" in caught.value.message


def test_refuse_lets_people_through_and_off_classifies_nothing():
    assert BotCheck("refuse").check([PERSON], FIREFOX).of(PERSON) is None
    assert BotCheck("off").check([DRIVEN], GOOGLEBOT) is None


def test_a_team_pattern_is_a_custom_bot():
    bots = BotCheck("flag", ("acme-uptime",)).check([PERSON], "ACME-Uptime/2.0 (+https://acme.example)")
    assert bots.of(PERSON) == Bot("ACME-Uptime", "custom")


def test_no_user_agent_is_a_person():
    assert BotCheck("flag").check([PERSON], None) == RequestBots(None)


def test_a_request_of_people_with_no_webdriver_event_needs_no_look_at_each_event():
    assert BotCheck("flag").check([PERSON, PERSON], FIREFOX) == RequestBots(None, webdriven=False)
    assert not RequestBots(None, webdriven=False).varies
    assert BotCheck("flag").check([PERSON, DRIVEN], FIREFOX).varies
    assert not BotCheck("flag").check([PERSON, DRIVEN], GOOGLEBOT).varies, "the agent's bot is every event's"
