"""Segment's browser SDK (@segment/analytics-next, unchanged) in real Chromium.

Against the service behind the nginx recipe.

The SDK is installed from the npm registry once per session; its UMD build is
served by a page on another origin than the collector's, so CORS is enforced
for real. Its settings are given to it (`cdnSettings`), so that it never asks
Segment's CDN: only the Segment.io destination, pointed at the collector.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from pathlib import Path

import pytest

from tests.servers import recipe_site, require_binary, wait_until
from tests.system.clients.lossy_proxy import LossyProxy

pytestmark = pytest.mark.system

KEY = "segment-browser-key-0123456789abcdef"
BROWSER_SDK = "@segment/analytics-next@1.84.3"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>analytics-next test page</title>
<script src="/umd/index.js"></script>
<script>
  var params = new URLSearchParams(location.search);
  var segmentio = {apiKey: params.get("key"), apiHost: params.get("apiHost"), protocol: "http"};
  if (params.get("batching")) {
    segmentio.deliveryStrategy = {strategy: "batching", config: {size: 100, timeout: 200}};
  }
  window.ready = AnalyticsNext.AnalyticsBrowser.load(
    {writeKey: params.get("key"), cdnSettings: {integrations: {"Segment.io": segmentio}}}
  ).then(function (loaded) { window.analytics = loaded[0]; return true; });
</script></head><body><p>analytics-next</p></body></html>
"""

# Makes the calls; answers each context's messageId and whether its delivery failed.
CALL_ALL = """
var done = arguments[arguments.length - 1];
var count = arguments[0];
window.ready.then(function () {
  var a = window.analytics;
  var calls = [
    a.track("Order Completed", {total: 9.5}), a.page("Shop", "Home"), a.screen("Cart"),
    a.identify("u1", {plan: "pro"}), a.group("g1", {name: "ACME"}), a.alias("u2", "u1"),
  ];
  for (var n = 0; n < count; n++) calls.push(a.track("Item Viewed", {n: n}));
  return Promise.all(calls);
}).then(function (contexts) {
  done(contexts.map(function (ctx) { return [ctx.event.type, ctx.event.messageId, !!ctx.failedDelivery()]; }));
}).catch(function (error) { done(String(error)); });
"""


@pytest.fixture(scope="session")
def analytics_next(tmp_path_factory) -> Path:
    """The UMD build of @segment/analytics-next, installed from the npm registry."""
    npm = require_binary("npm", "/usr/bin")
    where = tmp_path_factory.mktemp("segment-browser")
    subprocess.run([npm, "init", "-y"], cwd=where, check=True, capture_output=True, timeout=120)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", BROWSER_SDK],
        cwd=where,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return where / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"


class Handler(http.server.SimpleHTTPRequestHandler):
    """The page at /page.html, the SDK's files under /umd/."""

    def __init__(self, *args, umd: Path, **kwargs) -> None:
        self.umd = umd
        super().__init__(*args, directory=str(umd), **kwargs)

    def do_GET(self) -> None:
        if self.path.startswith("/page.html"):
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.path = self.path.removeprefix("/umd")
        super().do_GET()

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        pass


@pytest.fixture
def site(analytics_next):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, umd=analytics_next))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


def send_from_page(browser, site: str, api_port: int, count: int, batching: bool) -> list:
    """The calls and `count` tracks from the page, once every message is stored: [type, messageId, failed]."""
    query = f"key={KEY}&apiHost=127.0.0.1:{api_port}/v1" + ("&batching=1" if batching else "")
    browser.get(f"{site}/page.html?{query}")
    try:
        wait_until(lambda: browser.execute_script("return !!window.ready"), 20, "the page")
        browser.set_script_timeout(180)
        results = browser.execute_async_script(CALL_ALL, count)
        assert isinstance(results, list), results
        return results
    except BaseException:
        browser.get("about:blank")
        raise


def behind_nginx(start_nginx, tmp_path, port: int) -> int:
    recipe, _ = recipe_site(tmp_path, [port])
    return start_nginx(sites={"collector": recipe}).port


def assert_stored_once(browser, service, results) -> None:
    try:
        # Batching resolves a call once it is queued: the page stays open until every message is stored.
        wait_until(lambda: len(service.events()) >= len(results), 120, "every message on disk")
    finally:
        browser.get("about:blank")
    assert [failed for _, _, failed in results if failed] == []
    assert [kind for kind, _, _ in results[:6]] == ["track", "page", "screen", "identify", "group", "alias"]
    assert sorted(event["eventId"] for event in service.events()) == sorted(message_id for _, message_id, _ in results)


@pytest.mark.parametrize("batching", [False, True], ids=["one request a call", "batching"])
def test_every_call_and_1000_tracks_from_the_browser_arrive_once_each(
    start_service, start_nginx, tmp_path, browser, site, batching
):
    service = start_service(api_keys=KEY, cors_origins=site, trusted_proxies="1", rate_limit="100000 per minute")
    results = send_from_page(browser, site, behind_nginx(start_nginx, tmp_path, service.port), 1000, batching)
    assert_stored_once(browser, service, results)
    assert f'"path":"/v1/{"b" if batching else "t"}"' in service.log()  # the browser SDK's own paths


def test_a_429_makes_the_browser_sdk_back_off_and_deliver_later(start_service, start_nginx, tmp_path, browser, site):
    service = start_service(api_keys=KEY, cors_origins=site, trusted_proxies="1", rate_limit="1 per second")
    # One request a call: ten requests at once, most of them refused until their window ends.
    results = send_from_page(browser, site, behind_nginx(start_nginx, tmp_path, service.port), 4, batching=False)
    assert_stored_once(browser, service, results)
    assert '"status":429' in service.log()


@pytest.mark.parametrize("failure", ["503", "dropped connection"])
def test_a_browser_retry_after_a_failure_stores_once(start_service, start_nginx, tmp_path, browser, site, failure):
    service = start_service(api_keys=KEY, cors_origins=site, trusted_proxies="1", dedupe="event")
    lossy = {"lose": 1} if failure == "dropped connection" else {"lose": 0, "refuse": 1}
    with LossyProxy(service.port, **lossy) as proxy:
        results = send_from_page(
            browser, site, behind_nginx(start_nginx, tmp_path, proxy.server.server_address[1]), 0, batching=True
        )
        assert_stored_once(browser, service, results)
    assert proxy.refused + len(proxy.forwarded) >= 2  # the first attempt failed, a retry was sent
