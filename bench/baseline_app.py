"""The bare-WSGI baseline: reads the body, answers 201, nothing else.

Run by bench/run.py under the same gunicorn.conf.py and settings as the
collector, so that every collector figure can be given as a ratio to what
gunicorn alone costs on the same machine in the same run.
"""

_BODY = b'{"headers": {}, "value": "{\\"pingId\\": \\"00000000-0000-4000-8000-000000000000\\"}"}'
_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("201 CREATED", list(_HEADERS))
    return [_BODY]
