"""The test pages of test_collector_js.py: each a shop's page using clients/js one way."""

# Settings from the query string: collector, writeKey, transport=beacon (no
# fetch: what arrives came by sendBeacon), persist=off, anonymousId=off,
# pageViews=off, storage=blocked (localStorage throws, as in a sandboxed frame).
FEATURE_PAGE = b"""<!doctype html>
<html>
<head>
<meta charset="utf-8">
<script>
  var params = new URLSearchParams(location.search);
  if (params.get("storage") === "blocked") {
    Object.defineProperty(window, "localStorage", {
      get: function () { throw new DOMException("blocked", "SecurityError"); }
    });
  }
  if (params.get("transport") === "beacon") {
    window.fetch = function () { return Promise.reject(new TypeError("this page sends by beacon only")); };
  }
  window.answers = [];
</script>
<script src="/collector.js"></script>
<script>
  Collector.init({
    url: params.get("collector"),
    writeKey: params.get("writeKey"),
    flushInterval: params.get("transport") === "beacon" ? 60000 : 50,
    persist: params.get("persist") !== "off",
    anonymousId: params.get("anonymousId") !== "off",
    pageViews: params.get("pageViews") !== "off",
    onResponse: function (answer) { window.answers.push(answer); }
  });
</script>
<title>Feature page</title>
</head>
<body><a id="next" href="/other.html">next</a></body>
</html>
"""

# The script's calls made before it arrives, as the async example of docs/sending-events.md does.
ASYNC_PAGE = b"""<!doctype html>
<html>
<head>
<meta charset="utf-8">
<script>
  window.Collector = window.Collector || [];
  Collector.push(["init", {url: new URLSearchParams(location.search).get("collector"), flushInterval: 50}]);
  Collector.push(["track", "signup_viewed", {plan: "pro"}]);
</script>
<script async src="/collector.js"></script>
<title>Async page</title>
</head>
<body><p>async</p></body>
</html>
"""

# A shop's page with docs/sending-events.md's example in <head>, where it runs before the body exists.
HEAD_PAGE = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<script>
window.errors = [];
window.addEventListener("error", function (e) { window.errors.push(String(e.message)); });
</script>
{example}
<title>Pricing</title>
</head>
<body><button id="buy">Buy</button></body>
</html>
"""

# The ES module, imported as a bundler's output would; and calls the collector
# would refuse, which must not spoil the batch they would have gone in.
MODULE_PAGE = b"""<!doctype html>
<html>
<head>
<meta charset="utf-8">
<script type="module">
  import {init, track} from "/src/collector.js";
  init({url: new URLSearchParams(location.search).get("collector"), flushInterval: 50, pageViews: false});
  window.ids = [
    track("module_event", {n: 1}),
    track("", {}),
    track("cyclic", (function () { var o = {}; o.self = o; return o; })()),
    track("with_a_list", [1, 2]),
    track("campaign", {}, {context: {campaign: "spring"}, userId: 42})
  ];
</script>
<title>Module page</title>
</head>
<body></body>
</html>
"""
