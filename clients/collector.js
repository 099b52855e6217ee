/*
 * collector.js: send events from a web page to a collector (POST /collect/event).
 *
 * No dependencies and no build step: load it with a classic <script> and call
 *
 *   Collector.init({url: "https://collect.example.com/collect/event"});
 *   Collector.track("page_view", {path: location.pathname});
 *
 * Events are kept in memory and sent in batches with fetch (keepalive, so a
 * batch in flight survives the page), every `flushInterval` ms or as soon as
 * `maxBatch` events wait. When the page is hidden or left, what is still
 * waiting goes with navigator.sendBeacon, as text/plain (a string's type: no
 * CORS preflight, which a leaving page has no time for). A 429 or 5xx, or a
 * network failure, is retried up to `maxRetries` times, after the answer's
 * Retry-After (or a growing back-off); any other 4xx is not retried (the
 * batch would be refused again) and is dropped with a console warning.
 * Each event gets its own eventId (a UUID) and timestamp when tracked, so a
 * resent event is the same event; `messageheader.sentAt` is the page's clock
 * when it is sent, from which the collector corrects a wrong client clock.
 *
 * Browsers allow 64 KiB of keepalive and beacon bodies in flight per page:
 * a batch is cut before it reaches KEEPALIVE_LIMIT bytes.
 */
(function (root) {
  "use strict";

  // 64 KiB, less room for another small request in flight at the same time.
  var KEEPALIVE_LIMIT = 60 * 1024;
  // What the collector takes by default in one request (COLLECTOR_MAX_EVENTS).
  var MAX_EVENTS_PER_REQUEST = 500;
  var EVENT_FIELDS = ["userId", "anonymousId", "sessionId", "context"];
  var DEFAULTS = {
    url: null,
    writeKey: null,
    flushInterval: 5000,
    maxBatch: 50,
    maxRetries: 5,
    maxQueue: 1000,
    onResponse: null
  };

  var config = null;
  var queue = [];
  var sending = null;
  var timer = null;
  var failures = 0;
  var listening = false;
  var warnedFull = false;

  function init(options) {
    var settings = {};
    for (var name in DEFAULTS) {
      settings[name] = options && options[name] != null ? options[name] : DEFAULTS[name];
    }
    if (!settings.url) {
      throw new Error("Collector.init: `url` is required, e.g. https://collect.example.com/collect/event");
    }
    settings.maxBatch = Math.max(1, Math.min(settings.maxBatch, MAX_EVENTS_PER_REQUEST));
    config = settings;
    if (!listening && typeof document !== "undefined") {
      listening = true;
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden") sendOnHide();
      });
      root.addEventListener("pagehide", sendOnHide);
    }
  }

  /* Queue an event; `fields` may add userId, anonymousId, sessionId and context. */
  function track(eventType, properties, fields) {
    if (!config) throw new Error("Collector.track: call Collector.init first");
    var event = {eventType: String(eventType), eventId: uuid(), timestamp: new Date().toISOString()};
    if (properties != null && typeof properties === "object") event.properties = properties;
    for (var i = 0; fields && i < EVENT_FIELDS.length; i++) {
      if (fields[EVENT_FIELDS[i]] != null) event[EVENT_FIELDS[i]] = fields[EVENT_FIELDS[i]];
    }
    queue.push(event);
    if (queue.length > config.maxQueue) {
      queue.splice(0, queue.length - config.maxQueue);
      if (!warnedFull) console.warn("collector.js: more than " + config.maxQueue + " events waiting; the oldest are dropped");
      warnedFull = true;
    }
    if (queue.length >= config.maxBatch) {
      flush();
    } else if (!timer) {
      timer = setTimeout(flush, config.flushInterval);
    }
    return event.eventId;
  }

  /* Send everything waiting; the promise settles once it is sent, or dropped after its retries. */
  function flush() {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (!config) return Promise.resolve();
    if (!sending) {
      sending = drain().then(settle, settle);
    }
    return sending;
  }

  function settle() {
    sending = null;
  }

  function drain() {
    if (!queue.length) return Promise.resolve();
    var batch = takeBatch();
    return post(batch).then(function (retryIn) {
      if (retryIn == null) {
        failures = 0;
        return drain();
      }
      failures += 1;
      if (failures > config.maxRetries) {
        console.warn("collector.js: " + batch.events.length + " events dropped after " + config.maxRetries + " retries");
        failures = 0;
        return drain();
      }
      // Back at the head of the queue: a page hidden meanwhile sends them by beacon.
      queue = batch.events.concat(queue);
      return wait(retryIn).then(drain);
    });
  }

  /* One request: null when done with the batch (sent, or refused for good), else ms to wait before resending. */
  function post(batch) {
    var headers = {"Content-Type": "application/json"};
    if (config.writeKey) headers["X-Collector-Key"] = config.writeKey;
    var request = {method: "POST", headers: headers, body: body(batch.events), keepalive: batch.bytes <= KEEPALIVE_LIMIT};
    return fetch(config.url, request).then(
      function (response) {
        var retryIn = null;
        if (response.status === 429 || response.status >= 500) {
          retryIn = retryAfter(response.headers.get("Retry-After"));
          if (retryIn == null) retryIn = backoff();
        } else if (!response.ok) {
          warnRefused(response, batch);
        }
        report(response.status, batch, retryIn);
        return retryIn;
      },
      function () {
        // Offline, DNS, a CORS refusal: the page cannot tell them apart.
        var retryIn = backoff();
        report(0, batch, retryIn);
        return retryIn;
      }
    );
  }

  function warnRefused(response, batch) {
    response.text().then(function (text) {
      console.warn("collector.js: " + batch.events.length + " events refused with " + response.status + ": " + text);
    }, function () {});
  }

  function report(status, batch, retryIn) {
    if (typeof config.onResponse === "function") {
      try {
        config.onResponse({status: status, events: batch.events.length, retryIn: retryIn});
      } catch (error) {
        console.warn("collector.js: onResponse threw", error);
      }
    }
  }

  /* The page is hidden or left: whatever waits goes now, by beacon (no answer, no retry). */
  function sendOnHide() {
    if (!config || !queue.length) return;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    var url = beaconUrl();
    while (queue.length) {
      var batch = takeBatch();
      if (!beacon(url, body(batch.events))) {
        // Over the browser's quota (or no way to send): kept, for when the page comes back.
        queue = batch.events.concat(queue);
        return;
      }
    }
    failures = 0;
  }

  function beacon(url, text) {
    if (typeof navigator !== "undefined" && typeof navigator.sendBeacon === "function") {
      var data = typeof Blob === "function" ? new Blob([text], {type: "text/plain;charset=UTF-8"}) : text;
      try {
        return navigator.sendBeacon(url, data);
      } catch (error) {
        return false;
      }
    }
    if (typeof fetch === "function") {
      fetch(url, {method: "POST", keepalive: true, headers: {"Content-Type": "text/plain;charset=UTF-8"}, body: text})
        .catch(function () {});
      return true;
    }
    return false;
  }

  /* A beacon cannot set a header: the write key goes in the query. */
  function beaconUrl() {
    if (!config.writeKey) return config.url;
    return config.url + (config.url.indexOf("?") < 0 ? "?" : "&") + "writeKey=" + encodeURIComponent(config.writeKey);
  }

  /* The events at the head of the queue that fit one request: at most maxBatch, under KEEPALIVE_LIMIT bytes. */
  function takeBatch() {
    var count = 0;
    var bytes = body([]).length + 64; // the envelope, sentAt included
    while (count < queue.length && count < config.maxBatch) {
      var size = utf8Length(JSON.stringify(queue[count])) + 1;
      if (count > 0 && bytes + size > KEEPALIVE_LIMIT) break;
      bytes += size;
      count += 1;
    }
    // A single event over the limit goes alone, without keepalive (the collector may refuse it: 413).
    return {events: queue.splice(0, count), bytes: bytes};
  }

  function body(events) {
    return JSON.stringify({messageBody: events, messageheader: {sentAt: new Date().toISOString()}});
  }

  /* Retry-After in ms: delay-seconds or an HTTP date; null when absent or unreadable. */
  function retryAfter(value) {
    if (value == null || value === "") return null;
    var seconds = Number(value);
    if (isFinite(seconds)) return Math.max(0, seconds * 1000);
    var date = Date.parse(value);
    return isNaN(date) ? null : Math.max(0, date - Date.now());
  }

  function backoff() {
    // 1 s, 2 s, 4 s ... at most a minute, with jitter so that pages do not resend together.
    return Math.min(60000, 1000 * Math.pow(2, failures)) * (0.5 + Math.random() / 2);
  }

  function wait(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function utf8Length(text) {
    if (typeof TextEncoder === "function") return new TextEncoder().encode(text).length;
    return text.length * 3; // an upper bound
  }

  function uuid() {
    var cryptoApi = root.crypto;
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") return cryptoApi.randomUUID();
    var bytes = new Array(16);
    if (cryptoApi && typeof cryptoApi.getRandomValues === "function") {
      bytes = cryptoApi.getRandomValues(new Uint8Array(16));
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = "";
    for (var j = 0; j < 16; j++) {
      hex += (bytes[j] + 0x100).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) hex += "-";
    }
    return hex;
  }

  function pending() {
    return queue.length;
  }

  var Collector = {init: init, track: track, flush: flush, pending: pending};
  root.Collector = Collector;
  if (typeof module === "object" && module.exports) module.exports = Collector;
})(typeof window !== "undefined" ? window : this);
