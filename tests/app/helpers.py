"""What the app tests share: a POST through Flask's test client, and the events the app stored."""

from __future__ import annotations

import orjson

from collector import service
from tests.servers import read_events


def post(
    client,
    body,
    query="",
    content_type="application/json",
    *,
    path="/collect/event",
    headers=None,
    remote_addr=None,
    **kwargs,
):
    """POST `body` (bytes or str as they are, anything else as JSON) to `path` + `query`.

    remote_addr: the client's address as the WSGI server would give it.
    """
    data = body if isinstance(body, (bytes, str)) else orjson.dumps(body)
    if remote_addr is not None:
        kwargs["environ_base"] = {"REMOTE_ADDR": remote_addr}
    return client.post(path + query, data=data, content_type=content_type, headers=headers or {}, **kwargs)


def stored(app):
    """Every event the app stored, its current file finished first as at a clean shutdown."""
    service.of(app).writer.close()
    return read_events(service.of(app).settings.data_dir)
