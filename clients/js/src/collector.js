/*
 * collector-js: send events from a web page to a collector (POST /collect/event).
 *
 * An ES module with no dependencies; build.mjs wraps this very file into the
 * script-tag build (dist/collector.global.js, global `Collector`).
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

export const VERSION = "1.0.0";

// Browsers allow 64 KiB of keepalive and beacon bodies in flight per page.
const KEEPALIVE_LIMIT = 60 * 1024;
// What the collector takes by default in one request (COLLECTOR_MAX_EVENTS).
const MAX_EVENTS_PER_REQUEST = 500;
const SESSION_IDLE_MS = 30 * 60 * 1000;
const STORAGE_PREFIX = "collector.";
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
      watchHistory(() => page());
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
    Object.assign(event, identities());
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
    for (const key of ["anonymousId", "sessionId", "sessionSeen"]) store.remove(key);
    userId = null;
  }

  function identities() {
    const ids = {};
    const now = Date.now();
    if (config.anonymousId) ids.anonymousId = store.get("anonymousId") || store.set("anonymousId", uuid());
    if (config.sessionId) {
      const seen = Number(store.get("sessionSeen"));
      let id = store.get("sessionId");
      if (!id || !(now - seen < SESSION_IDLE_MS) || now < seen) id = store.set("sessionId", uuid());
      store.set("sessionSeen", String(now));
      ids.sessionId = id;
    }
    return ids;
  }

  function withContext(event) {
    event.context = Object.assign(pageContext(), event.context);
    return event;
  }

  /* Where the page is: read when the event is queued, once the document is parsed (its title known). */
  function pageContext() {
    const here = window.location;
    // After a history navigation the referrer is the previous view (document.referrer stays the first one's).
    const referrer = spaNavigated ? previousUrl : document.referrer;
    const context = {
      page: {url: here.href, path: here.pathname, search: here.search, referrer: referrer || "", title: document.title},
      screen: {width: window.screen.width, height: window.screen.height, density: window.devicePixelRatio},
      locale: navigator.language,
      timezone: timeZone(),
      library: {name: "collector-js", version: VERSION}
    };
    // Automation (selenium, puppeteer) says so: the collector can flag bots by it.
    if (navigator.webdriver) context.webdriver = true;
    return context;
  }

  /* Page views for single-page apps: pushState, replaceState and popstate that change the URL. */
  function watchHistory(onNavigate) {
    let current = window.location.href;
    const changed = () => {
      if (window.location.href === current) return;
      previousUrl = current;
      current = window.location.href;
      spaNavigated = true;
      onNavigate();
    };
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      history[name] = function () {
        const result = original.apply(this, arguments);
        changed();
        return result;
      };
    }
    window.addEventListener("popstate", changed);
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
        if (retryIn == null) retryIn = backoff();
      } else if (!response.ok) {
        response.text().then((text) => console.warn("collector-js: " + batch.events.length + " events refused with " + status + ": " + text), () => {});
      }
    } catch (error) {
      retryIn = backoff(); // offline, DNS, a CORS refusal: the page cannot tell them apart
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

  function beacon(url, text) {
    if (typeof navigator.sendBeacon !== "function") return false;
    try {
      return navigator.sendBeacon(url, new Blob([text], {type: "text/plain;charset=UTF-8"}));
    } catch (error) {
      return false;
    }
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

  function backoff() {
    // 1 s, 2 s, 4 s ... at most a minute, with jitter so that pages do not resend together.
    return Math.min(60000, 1000 * Math.pow(2, failures)) * (0.5 + Math.random() / 2);
  }

  function pending() {
    return queue.length + held.length + (retrying ? retrying.events.length : 0);
  }

  const api = {init, track, page, identify, reset, flush, pending, ready};
  return api;
}

/* Run `fn` once the document is parsed (the body exists): at once if it is. */
export function ready(fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => fn(), {once: true});
  else fn();
}

/* Ids kept in localStorage when `persist` and the page allows it, else in memory (this page load only). */
function makeStore(persist) {
  const memory = {};
  let local = null;
  if (persist) {
    try {
      local = window.localStorage; // throws where storage is blocked (sandboxed frames, some privacy modes)
      local.setItem(STORAGE_PREFIX + "probe", "1");
      local.removeItem(STORAGE_PREFIX + "probe");
    } catch (error) {
      local = null;
    }
  }
  const attempt = (fn) => {
    try {
      return local ? fn(local) : null;
    } catch (error) {
      return null; // full or revoked meanwhile: memory still holds it
    }
  };
  return {
    get: (key) => attempt((s) => s.getItem(STORAGE_PREFIX + key)) || memory[key] || null,
    set: (key, value) => {
      memory[key] = value;
      attempt((s) => s.setItem(STORAGE_PREFIX + key, value));
      return value;
    },
    remove: (key) => {
      delete memory[key];
      attempt((s) => s.removeItem(STORAGE_PREFIX + key));
    }
  };
}

function isObject(value) {
  return value != null && typeof value === "object" && !Array.isArray(value);
}

/* Why the collector's schema would refuse `event`, or null: checked before it can spoil a batch. */
function refusal(event) {
  const type = event.eventType;
  // 1 to 128 characters, not blank, no control characters: the collector's rule.
  if (!type.trim() || type.length > 128 || /[\u0000-\u001f\u007f-\u009f]/.test(type)) return "eventType " + JSON.stringify(type);
  for (const name of ["userId", "anonymousId", "sessionId"]) {
    if (event[name] != null && event[name].length > 256) return name + " over 256 characters";
  }
  try {
    JSON.stringify(event); // a cycle or a BigInt would throw later, when the batch is made
  } catch (error) {
    return "properties or context not JSON: " + error.message;
  }
  return null;
}

/* Retry-After in ms: delay-seconds or an HTTP date; null when absent or unreadable. */
function retryAfter(value) {
  if (value == null || value === "") return null;
  const seconds = Number(value);
  if (isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return isNaN(date) ? null : Math.max(0, date - Date.now());
}

function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch (error) {
    return null;
  }
}

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only (https, localhost)
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  let hex = "";
  for (let i = 0; i < 16; i++) hex += (bytes[i] + 0x100).toString(16).slice(1) + ([3, 5, 7, 9].includes(i) ? "-" : "");
  return hex;
}

const shared = createCollector();
export const {init, track, page, identify, reset, flush, pending} = shared;
export default shared;
