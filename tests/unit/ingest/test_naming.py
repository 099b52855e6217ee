"""collector/ingest/naming.py: one event of a request named as that route's validation errors name it."""

from collector.ingest.naming import collect_name, segment_name


def test_each_route_names_an_event_as_its_validation_errors_do():
    assert collect_name(2) == "messageBody[2]"
    assert segment_name(None)(2) == "batch[2]"  # /v1/batch
    assert segment_name("track")(0) is None  # a single call: its only message has no name
