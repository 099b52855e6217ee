"""A request's text as the client wrote it, for the stored line and the access log alike."""

from __future__ import annotations

# The query parameter a write key may travel in (`?writeKey=`, for beacons and
# pixels, which cannot set a header): checked by collector/ingest/keys.py,
# left out of the access log by collector/ops/access_log.py. Also Segment's
# name for the key in a body.
WRITE_KEY_PARAMETER = "writeKey"


def header_text(value: str | None) -> str | None:
    """A header's value as the client wrote it: its bytes read as UTF-8.

    Header values reach WSGI apps as Latin-1 text (PEP 3333), so a User-Agent
    sent in UTF-8 (`MyApp (ТЕСТ)`) would be mojibake: it is decoded back to the
    text that was sent, invalid UTF-8 replaced with U+FFFD, never guessed.
    """  # noqa: RUF002 - the example above is Cyrillic on purpose: a User-Agent sent in UTF-8
    if value is None or value.isascii():
        return value
    return value.encode("latin-1", "replace").decode("utf-8", "replace")
