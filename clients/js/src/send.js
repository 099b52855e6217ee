/* Pure helpers of the transport: when a request is resent, how a beacon goes, what the collector would refuse. */

/* Retry-After in ms: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfter(value) {
  if (value == null || value === "") return null;
  const seconds = Number(value);
  if (isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return isNaN(date) ? null : Math.max(0, date - Date.now());
}

/* 1 s, 2 s, 4 s ... at most a minute, with jitter so that pages do not resend together. */
export function backoff(failures) {
  return Math.min(60000, 1000 * Math.pow(2, failures)) * (0.5 + Math.random() / 2);
}

/* Sends `text` by navigator.sendBeacon as text/plain (a simple request: no preflight); false if it could not. */
export function beacon(url, text) {
  if (typeof navigator.sendBeacon !== "function") return false;
  try {
    return navigator.sendBeacon(url, new Blob([text], {type: "text/plain;charset=UTF-8"}));
  } catch (error) {
    return false;
  }
}

export function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function isObject(value) {
  return value != null && typeof value === "object" && !Array.isArray(value);
}

/* Why the collector's schema would refuse `event`, or null: checked before it can spoil a batch. */
export function refusal(event) {
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
