"""The browser tests' web sites: static origins serving clients/js and test pages, and a page opener.

Pages are served from origins of their own (a static server on its own port),
as a shop's pages would be: every request to the collector is cross-origin, and
the browser enforces CORS for real. A site serves the package's script-tag
build at /collector.js, its ES modules under /src/, and the pages a
test gives it.
"""

from __future__ import annotations

import http.server
import re
import threading
import urllib.parse
from pathlib import Path
from typing import ClassVar

import pytest

from tests.processes import ROOT
from tests.servers import Nginx, require_binary, wait_until

PACKAGE = ROOT / "clients" / "js"
SCRIPTS = {
    "/collector.js": PACKAGE / "dist" / "collector.global.js",
    **{f"/src/{path.name}": path for path in (PACKAGE / "src").glob("*.js")},
}


class PageHandler(http.server.BaseHTTPRequestHandler):
    """The package's files and the site's pages, nothing else."""

    pages: ClassVar[dict[str, bytes]] = {}  # each site's subclass sets its own

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in SCRIPTS:
            self._send(SCRIPTS[path].read_bytes(), "text/javascript; charset=utf-8")
        elif path in self.pages:
            self._send(self.pages[path], "text/html; charset=utf-8")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        pass


class StaticSite:
    """A static web server on a free loopback port, in a thread: an origin of its own."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        handler = type("SitePageHandler", (PageHandler,), {"pages": pages})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str, collector_url: str, **params: str) -> str:
        return f"{self.origin}{path}?" + urllib.parse.urlencode({"collector": collector_url, **params})

    def __enter__(self) -> StaticSite:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def make_site(browser):
    """make_site({path: html}): a new origin serving those pages, its localStorage empty.

    The browser outlives the test, and a later site may get the same port, so
    the same origin: its storage is cleared when the test ends.
    """
    sites = []

    def make(pages: dict[str, bytes]) -> StaticSite:
        site = StaticSite(pages).__enter__()
        sites.append(site)
        return site

    yield make
    for site in sites:
        browser.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": site.origin, "storageTypes": "all"})
        site.__exit__(None, None, None)


@pytest.fixture
def open_page(browser):
    """open_page(url): the page loaded and its collector initialised; the tab is left on about:blank after the test."""

    def open_(url: str, ready: str = "return !!window.Collector && !!window.answers"):
        browser.get(url)
        wait_until(lambda: browser.execute_script(ready), 30, "the page")
        return browser

    yield open_
    browser.get("about:blank")


def readme_web_block(language: str) -> str:
    """The one `language` code block of the "From a web page" section (docs/sending-events.md)."""
    text = (ROOT / "docs" / "sending-events.md").read_text()
    section = text[text.index("### From a web page\n") :]
    section = section[: section.index("\n### ", 1)]
    [block] = re.findall(rf"```{language}\n(.*?)\n```", section, re.S)
    return block


# A shop's web server: its pages under www/, and docs/sending-events.md's `location` for
# the script-tag build, with the checkout at /opt/collector taken to be ROOT.
SHOP_NGINX_CONF = """
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
{location}
    }}
}}
"""


@pytest.fixture
def shop_nginx(tmp_path):
    """shop_nginx({name: html}): a real nginx serving those pages.

    And, as docs/sending-events.md says, /js/collector.js.
    """
    servers = []

    def start(pages: dict[str, str]) -> Nginx:
        prefix = Path(tmp_path / f"shop-nginx{len(servers)}")
        nginx = Nginx(require_binary("nginx", "/usr/sbin", "/usr/local/sbin"), prefix)
        (prefix / "www").mkdir()
        for name, html in pages.items():
            (prefix / "www" / name).write_text(html)
        location = readme_web_block("nginx").replace("/opt/collector/", f"{ROOT}/")
        nginx.conf.write_text(SHOP_NGINX_CONF.format(prefix=prefix, port=nginx.port, location=location))
        nginx._path_prefix = ["-p", str(prefix)]
        servers.append(nginx)
        return nginx.start()

    yield start
    for server in servers:
        server.stop()
