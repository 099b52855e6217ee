"""A proxy in front of the collector that loses the answer to the first POST: the page gets a 503 instead.

For browsers: unlike tests/system/clients/lossy_proxy.py (which drops the
connection of the first request, a preflight here), it answers preflights and
relays the collector's CORS headers, so the page can read the 503 and its
Retry-After.
"""

from __future__ import annotations

import http.server
import threading

import requests


class LosingProxy:
    """Forwards /collect/event to the collector, but the first POST's answer is lost: the page gets a 503.

    The collector has stored that batch, as when a proxy times out or a
    connection drops after the write: only its Idempotency-Key on the resend
    keeps it from being stored twice. With `store_first=False` the first POST
    never reaches the collector (a 503 of the proxy's own, after `retry_after`).
    """

    def __init__(self, upstream: str, store_first: bool = True, retry_after: str = "1") -> None:
        self.forwarded: list[tuple[str | None, int]] = []  # (Idempotency-Key, the collector's status) of each POST
        self.store_first = store_first
        self.retry_after = retry_after
        self.posts = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_OPTIONS(self) -> None:
                proxy.forward(self, upstream)

            def do_POST(self) -> None:
                proxy.forward(self, upstream)

            def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def forward(self, handler: http.server.BaseHTTPRequestHandler, upstream: str) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        first = handler.command == "POST" and self.posts == 0
        self.posts += handler.command == "POST"
        if first and not self.store_first:
            origin = handler.headers.get("Origin", "")
            cors = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
            self.answer(
                handler,
                503,
                b"{}",
                {**cors, "Access-Control-Expose-Headers": "Retry-After", "Retry-After": self.retry_after},
            )
            return
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in ("host", "connection")}
        answer = requests.request(handler.command, upstream + handler.path, data=body, headers=headers, timeout=30)
        status, content = answer.status_code, answer.content
        kept = {
            name: value
            for name, value in answer.headers.items()
            if name.lower().startswith(("access-control-", "vary", "content-type"))
        }
        if handler.command == "POST":
            self.forwarded.append((handler.headers.get("Idempotency-Key"), status))
            if first:
                status, content = 503, b'{"error": "Service Unavailable", "statusCode": 503}'
                kept["Retry-After"] = self.retry_after
        self.answer(handler, status, content, kept)

    @staticmethod
    def answer(handler: http.server.BaseHTTPRequestHandler, status: int, content: bytes, kept: dict[str, str]) -> None:
        handler.send_response(status)
        for name, value in kept.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def __enter__(self) -> LosingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
