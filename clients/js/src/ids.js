/* The anonymous and session ids, and where they are kept. */

const SESSION_IDLE_MS = 30 * 60 * 1000;
const STORAGE_PREFIX = "collector.";

/* {anonymousId, sessionId} as `config` asks; the session rolls after 30 minutes without an event. */
export function identities(store, config, now) {
  const ids = {};
  if (config.anonymousId) ids.anonymousId = store.get("anonymousId") || store.set("anonymousId", uuid());
  if (config.sessionId) {
    const seen = Number(store.get("sessionSeen"));
    let id = store.get("sessionId");
    // A clock set back (now before the last event) starts a session too.
    if (!id || !(now - seen < SESSION_IDLE_MS) || now < seen) id = store.set("sessionId", uuid());
    store.set("sessionSeen", String(now));
    ids.sessionId = id;
  }
  return ids;
}

export function forgetIdentities(store) {
  for (const key of ["anonymousId", "sessionId", "sessionSeen"]) store.remove(key);
}

/* Ids kept in localStorage when `persist` and the page allows it, else in memory (this page load only). */
export function makeStore(persist) {
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

/* A random (version 4) UUID. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only (https, localhost)
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  let hex = "";
  for (let i = 0; i < 16; i++) hex += (bytes[i] + 0x100).toString(16).slice(1) + ([3, 5, 7, 9].includes(i) ? "-" : "");
  return hex;
}
