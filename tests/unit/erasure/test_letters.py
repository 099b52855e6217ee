from __future__ import annotations

from collector.deadletters.letters import DeadLetters, read
from collector.erasure import letters
from collector.erasure.matching import Ids, Matcher


def keep(data_dir, user: str) -> None:
    body = b'{"messageBody": [{"eventType": "bad type", "userId": "' + user.encode() + b'"}]}'
    DeadLetters(data_dir, "h", 4096, 1 << 20).record(body=body, status=400, code="c", message="m", facts={})


def test_the_persons_letters_are_deleted_by_rewriting_the_file_and_the_others_kept(tmp_path):
    keep(tmp_path, "u-gone")
    keep(tmp_path, "u-kept")
    keep(tmp_path, "u-gone")
    matcher = Matcher(Ids.of(user=["u-gone"]))
    assert letters.erase(tmp_path, matcher, dry_run=True) == 2
    assert len(list(read(tmp_path))) == 3
    assert letters.erase(tmp_path, matcher, dry_run=False) == 2
    assert ["u-kept" in letter["body"] for letter in read(tmp_path)] == [True]
    assert not list(tmp_path.joinpath("deadletters").glob(".*erasing"))


def test_a_file_of_only_their_letters_is_removed_and_a_writer_starts_a_new_one(tmp_path):
    writer = DeadLetters(tmp_path, "h", 4096, 1 << 20)
    writer.record(body=b'{"userId": "u-gone"}', status=400, code="c", message="m", facts={})
    assert letters.erase(tmp_path, Matcher(Ids.of(user=["u-gone"])), dry_run=False) == 1
    assert letters.letter_files(tmp_path) == []
    writer.record(body=b'{"userId": "u-kept"}', status=400, code="c", message="m", facts={})
    assert len(list(read(tmp_path))) == 1


def test_no_dead_letters_directory_is_nothing_to_erase(tmp_path):
    assert letters.erase(tmp_path, Matcher(Ids.of(user=["u"])), dry_run=False) == 0
    assert list(tmp_path.iterdir()) == []


def test_no_letter_written_while_the_erasure_rewrites_is_lost(tmp_path):
    import threading

    writer = DeadLetters(tmp_path, "h", 4096, 1 << 30)
    writer.file_bytes = 2048  # many small files, so that rewrites and new files interleave
    for _ in range(20):
        keep(tmp_path, "u-gone")
    done = threading.Event()

    def write_others() -> None:
        for n in range(300):  # the person's letters keep coming too, so files keep being rewritten
            writer.record(body=b'{"userId": "u-kept-%d"}' % n, status=400, code="c", message="m", facts={})
            writer.record(body=b'{"userId": "u-gone"}', status=400, code="c", message="m", facts={})
        done.set()

    thread = threading.Thread(target=write_others)
    thread.start()
    matcher = Matcher(Ids.of(user=["u-gone"]))
    erased = 0
    while not done.is_set():
        erased += letters.erase(tmp_path, matcher, dry_run=False)
    thread.join()
    erased += letters.erase(tmp_path, matcher, dry_run=False)
    assert erased == 320
    assert sorted(letter["body"] for letter in read(tmp_path)) == sorted(
        f'{{"userId": "u-kept-{n}"}}' for n in range(300)
    )
