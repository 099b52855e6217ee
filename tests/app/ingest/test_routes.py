"""collector.ingest.ROUTES against the app's URL map: each path is a POST route of the collect blueprint."""

from __future__ import annotations

from collector.ingest import ROUTES


def test_every_route_path_reaches_the_collect_blueprint(app):
    urls = app.url_map.bind("localhost")
    for path in ROUTES:
        endpoint, _ = urls.match(path, method="POST")
        assert endpoint.startswith("collect."), path
