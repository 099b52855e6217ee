"""collector.ingest.ROUTES: every path clients post events to, labelled by its route, and nothing else."""

from __future__ import annotations

from collector.ingest import ROUTES, segment


def test_routes_hold_collect_and_every_segment_path():
    assert set(ROUTES) == {"/collect/event", *segment.PATHS}


def test_the_routes_are_three_labels_whatever_the_paths():
    assert sorted(set(ROUTES.values())) == ["/collect/event", "/v1/<call>", "/v1/batch"]
    assert ROUTES["/v1/b"] == "/v1/batch" and ROUTES["/v1/t"] == ROUTES["/v1/alias"] == "/v1/<call>"
