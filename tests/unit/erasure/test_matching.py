from __future__ import annotations

import base64

from collector.erasure.matching import Ids, Matcher
from tests.unit.erasure.helpers import GONE, event


def test_each_kind_of_id_is_looked_for_in_its_own_field_and_file_ids_in_all():
    matcher = Matcher(Ids.of(user=["x"], session=["s"], any_field=["f"]))
    assert matcher.fields_of({"userId": "x"}) == ["userId"]
    assert matcher.fields_of({"anonymousId": "x"}) == []  # a user id is not looked for as an anonymousId
    assert matcher.fields_of({"sessionId": "s", "anonymousId": "f"}) == ["anonymousId", "sessionId"]
    assert matcher.fields_of({"properties": {"userId": "x"}}) == []  # top-level fields only
    assert matcher.fields_of(["x"]) == []


def test_a_line_without_the_ids_bytes_is_not_parsed_and_a_line_with_them_is():
    matcher = Matcher(Ids.of(user=[GONE]))
    assert not matcher.maybe_theirs(event(1))
    assert matcher.line_is_theirs(event(2, GONE))
    assert not matcher.line_is_theirs(event(3, properties={"note": GONE}))  # named, not as their userId
    assert not matcher.line_is_theirs(b"{torn " + GONE.encode())


def test_an_id_that_json_escapes_is_matched_without_the_shortcut():
    odd = 'a"b\\c'
    matcher = Matcher(Ids.of(user=[odd]))
    assert matcher.maybe_theirs(b"anything")
    assert matcher.line_is_theirs(event(1, odd))
    assert Matcher(Ids.of(user=["caf\u00e9"])).line_is_theirs(event(2, "caf\u00e9"))


def test_dead_letters_are_theirs_by_an_event_of_the_body_or_the_quoted_id_in_a_body_that_is_not_json():
    matcher = Matcher(Ids.of(user=[GONE]))
    assert matcher.letter_is_theirs({"body": '{"messageBody": [{"eventType": "x"}, {"userId": "u-gone"}]}'})
    assert matcher.letter_is_theirs({"body": '{"batch": [{"type": "track", "userId": "u-gone"}]}'})
    assert matcher.letter_is_theirs({"body": '{"type": "identify", "userId": "u-gone"}'})
    assert matcher.letter_is_theirs({"body": '{"userId": "\\u0075-gone"}'})  # escaped by the client
    assert matcher.letter_is_theirs({"body": '{"messageBody": [{"userId": "u-gone", '})
    assert matcher.letter_is_theirs({"bodyBase64": base64.b64encode(b'\xff{"userId":"u-gone"').decode()})
    assert not matcher.letter_is_theirs({"body": '{"messageBody": [{"userId": "u-gone-too"}]}'})
    assert not matcher.letter_is_theirs({"body": None})
