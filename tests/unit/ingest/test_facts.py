from datetime import datetime, timedelta, timezone

from collector.ingest.facts import format_received_at


def test_received_at_is_utc_with_milliseconds_and_z():
    moment = datetime(2026, 11, 26, 5, 56, 52, 123999, tzinfo=timezone(timedelta(hours=1)))
    assert format_received_at(moment.timestamp()) == "2026-11-26T04:56:52.123Z"
    assert format_received_at(1795669012.0) == "2026-11-26T04:56:52.000Z"
    assert format_received_at(1795669012.9999) == "2026-11-26T04:56:52.999Z"
