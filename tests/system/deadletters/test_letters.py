"""Dead letters written by the real service under gunicorn: the cap holds for all workers together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from collector.deadletters import letters as deadletters

pytestmark = pytest.mark.system

CAP = 64 * 1024


def test_the_dead_letter_cap_holds_for_every_worker_together(start_service, tmp_path):
    service = start_service(
        data_dir=tmp_path / "data", dead_letter="on", dead_letter_max_bytes=str(CAP), event_types="allowed",
        workers="2", rate_limit="100000 per hour",
    )
    service.wait_for_workers(2)
    refused = {"messageBody": [{"eventType": "refused", "properties": {"pad": "x" * 1000}}]}
    with ThreadPoolExecutor(4) as pool:  # a new connection each: both workers write letters
        statuses = list(
            pool.map(lambda _: service.post(refused, headers={"Connection": "close"}).status_code, range(300))
        )
    assert set(statuses) == {400}
    directory = service.data_dir / deadletters.DIRECTORY
    files = [path for path in directory.iterdir() if path.is_file()]
    assert sum(path.stat().st_size for path in files) <= CAP, "300 letters of ~1.3 KB under a 64 KiB cap"
    kept = list(deadletters.read(service.data_dir))
    assert len(kept) >= 30, "the newest letters are kept, most of the cap's worth"
