"""collector/ingest/suppresscheck.py, through the intake: a suppressed id refuses the request, named, never echoed."""

from __future__ import annotations

import pytest

from collector.errors import CollectorError
from collector.ingest.intake import Intake
from collector.ingest.segment import map_request
from collector.ingest.suppresscheck import refuse_suppressed
from collector.settings import load_settings
from collector.suppressed import SuppressedIds


def intake(tmp_path, **overrides) -> Intake:
    return Intake.from_settings(load_settings(environ={}, overrides={"data_dir": str(tmp_path / "data"), **overrides}))


LISTED = SuppressedIds("suppressed.txt", frozenset({"gone"}))


def test_off_or_no_listed_id_refuses_nothing():
    refuse_suppressed(None, [{"userId": "gone"}])
    refuse_suppressed(LISTED, [{"userId": "u1", "anonymousId": "a1"}, {"eventType": "a"}])


def test_the_first_event_carrying_one_is_named_with_its_field_never_the_id():
    with pytest.raises(CollectorError) as caught:
        refuse_suppressed(LISTED, [{"userId": "u1"}, {"userId": "u2", "anonymousId": "gone"}])
    assert (caught.value.status, caught.value.code) == (403, "suppressed")
    assert caught.value.message.startswith("messageBody[1].anonymousId is a suppressed id (COLLECTOR_SUPPRESSED_")
    assert "gone" not in caught.value.message


def test_the_intake_takes_the_list_from_the_settings_and_names_segment_messages_as_their_routes_do(tmp_path):
    path = tmp_path / "suppressed.txt"
    path.write_text("gone\n")
    built = intake(tmp_path, suppressed_ids_file=str(path))
    assert built.suppressed is not None and built.suppressed.ids == {"gone"}
    batch = map_request({"batch": [{"type": "page", "userId": "u"}, {"type": "page", "userId": "gone"}]})
    with pytest.raises(CollectorError, match=r"^batch\[1\]\.userId is a suppressed id"):
        built.suppress_segment(batch, None)
    one = map_request({"anonymousId": "gone"}, "page")
    with pytest.raises(CollectorError, match=r"^anonymousId is a suppressed id"):
        built.suppress_segment(one, "page")
    with pytest.raises(CollectorError, match=r"^messageBody\[0\]\.userId is a suppressed id"):
        built.suppress([{"eventType": "a", "userId": "gone"}])
    intake(tmp_path).suppress([{"userId": "gone"}])  # off
