/*
 * collector-js: send events from a web page to a collector (POST /collect/event).
 *
 * An ES module with no dependencies (its helpers in ids.js, page.js, send.js);
 * build.mjs puts the four files, as they are, into the script-tag build
 * (dist/collector.global.js, global `Collector`).
 *
 * Safe anywhere in the page, <head> included: nothing here touches the body,
 * and events tracked while the document is still being parsed are held until
 * it is (so that their page context has the title), then queued. Calls made
 * before `init` are kept and run by it. Each event carries its page context
 * (URL, path, referrer, title, screen, locale, time zone) in `context`, and,
 * unless turned off, an anonymous id (kept in localStorage where the page
 * allows it) and a session id that rolls after 30 minutes idle.
 *
 * Batches go by fetch (keepalive) with an Idempotency-Key each: a retry (after
 * a 429, a 5xx or a network failure, with back-off) resends the same body with
 * the same key, so the collector stores it once even when only its answer was
 * lost. On page hide what waits goes by navigator.sendBeacon as text/plain
 * (no preflight; the write key in `?writeKey=`, as a beacon sets no header).
 */

import {forgetIdentities, identities, makeStore, uuid} from "./ids.js";
import {pageContext, ready, watchHistory} from "./page.js";
import {backoff, beacon, isObject, refusal, retryAfter, wait} from "./send.js";

export {ready};
export const VERSION = "1.0.0";
const LIBRARY = {name: "collector-js", version: VERSION};

// Browsers allow 64 KiB of keepalive and beacon bodies in flight per page.
const KEEPALIVE_LIMIT = 60 * 1024;
// What the collector takes by default in one request (COLLECTOR_MAX_EVENTS).
const MAX_EVENTS_PER_REQUEST = 500;
const DEFAULTS = {
  url: null,
  writeKey: null,
  flushInterval: 5000,
  maxBatch: 50,
  maxRetries: 5,
  maxQueue: 1000,
  anonymousId: true,
  sessionId: true,
  persist: true,
  pageViews: true,
  onResponse: null
};

/* A collector of its own; the script-tag build and the named exports below share one. */
export function createCollector() {
  let config = null;
  let before = []; // calls made before init: [name, args]
  let held = []; // events tracked while the document was still loading
  let queue = [];
  let sending = null;
  let timer = null;
  let failures = 0;
  let retrying = null; // the batch waiting to be resent
  let store = null;
  let userId = null;
  let spaNavigated = false;
  let previousUrl = null;
  let warnedFull = false;

  function init(options) {
    const settings = {};
    for (const name in DEFAULTS) settings[name] = options && options[name] != null ? options[name] : DEFAULTS[name];
    if (!settings.url) throw new Error("Collector.init: `url` is required, e.g. https://collect.example.com/collect/event");
    settings.maxBatch = Math.max(1, Math.min(settings.maxBatch, MAX_EVENTS_PER_REQUEST));
    if (config) return; // a second init (two copies of the tag) changes nothing
    config = settings;
    store = makeStore(settings.persist);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") sendOnHide();
    });
    window.addEventListener("pagehide", sendOnHide);
    ready(releaseHeld);
    if (settings.pageViews) {
      ready(() => page());
      watchHistory((previous) => {
        previousUrl = previous;
        spaNavigated = true;
        page();
      });
    }
    const calls = before;
    before = [];
    for (const [name, args] of calls) api[name](...args);
  }

  /* Queue an event; returns its eventId. `fields` may add userId, anonymousId, sessionId and context. */
  function track(eventType, properties, fields, made) {
    // Its id and time are the moment of the call, also for a call init makes later.
    const event = made || {eventType: String(eventType), eventId: uuid(), timestamp: new Date().toISOString()};
    if (!config) {
      before.push(["track", [eventType, properties, fields, event]]);
      return event.eventId;
    }
    if (isObject(properties)) event.properties = properties;
    if (userId != null) event.userId = userId;
    Object.assign(event, identities(store, config, Date.now()));
    for (const name of ["userId", "anonymousId", "sessionId"]) if (fields && fields[name] != null) event[name] = String(fields[name]);
    if (fields && isObject(fields.context)) event.context = fields.context;
    const problem = refusal(event);
    if (problem) {
      // The collector refuses a whole batch for one bad event: this one alone is dropped, here.
      console.warn("collector-js: event not sent, " + problem);
      return null;
    }
    if (document.readyState === "loading") held.push(event);
    else enqueue(withContext(event));
    return event.eventId;
  }

  /* A page view (eventType `page_view`): sent on load and on each history navigation when pageViews is on. */
  function page(properties) {
    return track("page_view", properties);
  }

  /* Set the userId of the events tracked from now on in this page (memory only; null clears it). */
  function identify(id) {
    if (!config) return void before.push(["identify", [id]]);
    userId = id == null ? null : String(id);
  }

  /* Forget the anonymous and session ids (e.g. on logout): later events get new ones. */
  function reset() {
    if (!config) return void before.push(["reset", []]);
    forgetIdentities(store);
    userId = null;
  }

  function withContext(event) {
    event.context = Object.assign(pageContext(spaNavigated ? previousUrl : document.referrer, LIBRARY), event.context);
    return event;
  }

  function releaseHeld() {
    const events = held;
    held = [];
    for (const event of events) enqueue(withContext(event));
  }

  function enqueue(event) {
    queue.push(event);
    if (queue.length > config.maxQueue) {
      queue.splice(0, queue.length - config.maxQueue);
      if (!warnedFull) console.warn("collector-js: more than " + config.maxQueue + " events waiting; the oldest are dropped");
      warnedFull = true;
    }
    if (queue.length >= config.maxBatch) flush();
    else if (!timer) timer = setTimeout(flush, config.flushInterval);
  }

  /* Send what is queued; the promise settles once it is sent, or dropped after its retries. */
  function flush() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!config) return Promise.resolve();
    if (!sending) sending = drain().then(settle, settle);
    return sending;
  }

  function settle() {
    sending = null;
    // An event queued as the last request ended found that request's promise: its turn is now.
    if (queue.length && !timer) timer = setTimeout(flush, config.flushInterval);
  }

  async function drain() {
    while (retrying || queue.length) {
      const batch = retrying || takeBatch();
      retrying = null;
      const retryIn = await post(batch);
      if (retryIn == null) {
        failures = 0;
      } else if (++failures > config.maxRetries) {
        console.warn("collector-js: " + batch.events.length + " events dropped after " + config.maxRetries + " retries");
        failures = 0;
      } else {
        // Resent as it was, body and key, so that the collector stores it once
        // (unless the page is hidden meanwhile: then it goes by beacon).
        retrying = batch;
        await wait(retryIn);
      }
    }
  }

  /* One request: null when done with the batch (stored, or refused for good), else ms to wait before resending. */
  async function post(batch) {
    const headers = {"Content-Type": "application/json", "Idempotency-Key": batch.key};
    if (config.writeKey) headers["X-Collector-Key"] = config.writeKey;
    let status = 0;
    let retryIn;
    try {
      const response = await fetch(config.url, {method: "POST", headers, body: batch.body, keepalive: batch.bytes <= KEEPALIVE_LIMIT});
      status = response.status;
      retryIn = null;
      // 409: another copy of this batch is being stored (idempotency_key_in_flight).
      if (status === 409 || status === 429 || status >= 500) {
        retryIn = retryAfter(response.headers.get("Retry-After"));
        if (retryIn == null) retryIn = backoff(failures);
      } else if (!response.ok) {
        response.text().then((text) => console.warn("collector-js: " + batch.events.length + " events refused with " + status + ": " + text), () => {});
      }
    } catch (error) {
      retryIn = backoff(failures); // offline, DNS, a CORS refusal: the page cannot tell them apart
    }
    report({status, events: batch.events.length, retryIn, key: batch.key});
    return retryIn;
  }

  function report(answer) {
    if (typeof config.onResponse !== "function") return;
    try {
      config.onResponse(answer);
    } catch (error) {
      console.warn("collector-js: onResponse threw", error);
    }
  }

  /* The page is hidden or left: whatever waits goes now, by beacon (no answer, no retry, no header). */
  function sendOnHide() {
    releaseHeld();
    if (retrying) {
      queue = retrying.events.concat(queue);
      retrying = null;
    }
    if (timer) clearTimeout(timer);
    timer = null;
    const url = config.writeKey ? config.url + (config.url.indexOf("?") < 0 ? "?" : "&") + "writeKey=" + encodeURIComponent(config.writeKey) : config.url;
    while (queue.length) {
      const batch = takeBatch();
      if (!beacon(url, batch.body)) {
        queue = batch.events.concat(queue); // over the browser's quota: kept for when the page comes back
        return;
      }
    }
    failures = 0;
  }

  /* The events at the head of the queue that fit one request, its body made once (a retry resends it as is). */
  function takeBatch() {
    let count = 0;
    let bytes = 160; // the envelope, sentAt included
    while (count < queue.length && count < config.maxBatch) {
      const size = new TextEncoder().encode(JSON.stringify(queue[count])).length + 1;
      if (count > 0 && bytes + size > KEEPALIVE_LIMIT) break;
      bytes += size;
      count += 1;
    }
    // A single event over the limit goes alone, without keepalive (the collector may refuse it: 413).
    const events = queue.splice(0, count);
    const body = JSON.stringify({messageBody: events, messageheader: {sentAt: new Date().toISOString()}});
    return {events, body, bytes, key: uuid()};
  }

  function pending() {
    return queue.length + held.length + (retrying ? retrying.events.length : 0);
  }

  const api = {init, track, page, identify, reset, flush, pending, ready};
  return api;
}

const shared = createCollector();
export const {init, track, page, identify, reset, flush, pending} = shared;
export default shared;
