from __future__ import annotations

from collector.deadletters.letters import DeadLetters
from collector.erasure import export
from collector.erasure.matching import Ids, Matcher
from tests.unit.erasure.helpers import GONE, event, name, write


def test_the_persons_events_from_every_file_oldest_first_and_their_letters(tmp_path):
    write(tmp_path / name(1, ".jsonl.gz"), [event(1), event(3, GONE)])
    write(tmp_path / name(2, ".jsonl.open"), [event(2, GONE), event(4)])
    DeadLetters(tmp_path, "h", 4096, 1 << 20).record(
        body=b'{"userId": "u-gone"}', status=400, code="c", message="m", facts={}
    )
    matcher = Matcher(Ids.of(user=[GONE]))
    assert list(export.events(tmp_path, matcher)) == [event(2, GONE), event(3, GONE)]
    assert [letter["body"] for letter in export.dead_letters(tmp_path, matcher)] == ['{"userId": "u-gone"}']
