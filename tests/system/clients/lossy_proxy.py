"""A tiny HTTP proxy for the clients' tests that loses answers.

The request reaches the collector, its answer never comes back.

That is the failure an Idempotency-Key is for: the collector stored the batch,
the client cannot know, and resends it.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import threading


class LossyProxy:
    """Forwards each request to `upstream_port`.

    For the first `lose` requests, closes the connection instead of answering.
    """

    def __init__(self, upstream_port: int, lose: int = 1, refuse: int = 0) -> None:
        self.upstream_port = upstream_port
        self.lose = lose
        # The first `refuse` requests get a 503 (as nginx's recipe answers a collector away) and are not forwarded.
        self.refuse = refuse
        self.refused = 0
        self.forwarded: list[int] = []  # the collector's status for each request forwarded
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.rfile, self.connection)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LossyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def _handle(self, rfile, connection: socket.socket) -> None:
        request_line = rfile.readline().decode("latin-1")
        if not request_line.strip():
            return
        method, path, _ = request_line.split(" ", 2)
        headers = {}
        while (line := rfile.readline().decode("latin-1")) not in ("\r\n", "\n", ""):
            name, value = line.split(":", 1)
            # names are case-insensitive (Node's fetch writes them in lower case)
            headers[name.strip().lower()] = value.strip()
        body = rfile.read(int(headers.get("content-length", "0")))
        with self._lock:
            refused = self.refused < self.refuse
            self.refused += refused
        if refused:
            answer = (
                b'{"error": "Service Unavailable", "message": "away", "statusCode": 503, '
                b'"code": "collector_unavailable"}'
            )
            head = (
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n"
            )
            connection.sendall(head.encode("latin-1") + answer)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            upstream.request(method, path, body=body, headers=headers)
            response = upstream.getresponse()
            content = response.read()
        finally:
            upstream.close()
        with self._lock:
            self.forwarded.append(response.status)
            lost = len(self.forwarded) <= self.lose
        if lost:
            connection.shutdown(socket.SHUT_RDWR)  # the answer is lost on the way back
            return
        head = [f"HTTP/1.1 {response.status} {response.reason}"]
        framing = ("connection", "content-length", "transfer-encoding")  # this proxy frames its own answer
        head += [f"{name}: {value}" for name, value in response.getheaders() if name.lower() not in framing]
        head += [f"Content-Length: {len(content)}", "Connection: close"]
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content)
