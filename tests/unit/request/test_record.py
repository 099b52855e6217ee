import dataclasses

import flask
import pytest

from collector.request import record
from collector.request.record import ENVIRON_KEY, RequestRecord


def test_a_request_gets_its_record_on_first_use_and_the_same_one_after():
    environ: dict = {}
    first = record.of(environ)
    assert isinstance(first, RequestRecord)
    assert environ[ENVIRON_KEY] is first
    first.ping_id = "ping-1"
    assert record.of(environ) is first
    assert record.of(environ).ping_id == "ping-1"


def test_a_new_record_holds_nothing_yet():
    fresh = RequestRecord()
    assert (fresh.ping_id, fresh.raw_body, fresh.payload, fresh.key_id, fresh.error_code) == (None,) * 5
    assert fresh.idempotency_claim is None
    assert fresh.replayed_refusal is False
    assert fresh.rate_limit_given_back is False


def test_each_request_has_its_own_record():
    assert record.of({}) is not record.of({})


def test_a_record_takes_no_field_it_does_not_declare():
    # slots: a misspelt field is an error, not a silent new key as flask.g or the environ would take.
    with pytest.raises(AttributeError):
        RequestRecord().pingId = "x"  # type: ignore[attr-defined]


def test_current_is_the_record_of_the_request_being_handled():
    app = flask.Flask(__name__)
    with app.test_request_context("/collect/event", method="POST") as context:
        record.current().error_code = "invalid_json"
        assert record.of(context.request.environ).error_code == "invalid_json"


def test_a_record_can_be_handed_in_with_the_environ():
    # As the dead-letter replay builds its request context: the key id its letter was sent with.
    app = flask.Flask(__name__)
    with app.test_request_context(environ_overrides={ENVIRON_KEY: RequestRecord(key_id="0123abcd")}):
        assert record.current().key_id == "0123abcd"


def test_the_record_lists_what_travels_with_a_request():
    names = {field.name for field in dataclasses.fields(RequestRecord)}
    assert names == {
        "ping_id",
        "raw_body",
        "payload",
        "key_id",
        "tried_key_id",
        "error_code",
        "idempotency_claim",
        "replayed_refusal",
        "rate_limit_given_back",
    }
