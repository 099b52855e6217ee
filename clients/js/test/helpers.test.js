// The pure helpers of src/, under Node's own test runner (node --test clients/js/test/).
import assert from "node:assert/strict";
import {test} from "node:test";

import {identities, makeStore, uuid} from "../src/ids.js";
import {backoff, refusal, retryAfter} from "../src/send.js";

const MINUTE = 60 * 1000;
const BOTH = {anonymousId: true, sessionId: true};

function memoryStore() {
  globalThis.window = {}; // no localStorage at all
  return makeStore(false);
}

test("the session rolls after 30 minutes without an event, not before", () => {
  const store = memoryStore();
  const first = identities(store, BOTH, 0);
  const later = identities(store, BOTH, 30 * MINUTE - 1);
  assert.equal(later.sessionId, first.sessionId);
  const next = identities(store, BOTH, 60 * MINUTE - 1); // 30 minutes after the last event
  assert.notEqual(next.sessionId, first.sessionId);
  assert.equal(next.anonymousId, first.anonymousId);
});

test("a clock set back starts a new session", () => {
  const store = memoryStore();
  const first = identities(store, BOTH, 10 * MINUTE);
  assert.notEqual(identities(store, BOTH, 5 * MINUTE).sessionId, first.sessionId);
});

test("ids turned off are not given", () => {
  assert.deepEqual(identities(memoryStore(), {anonymousId: false, sessionId: false}, 0), {});
});

test("a localStorage that throws leaves the ids in memory", () => {
  globalThis.window = {
    get localStorage() {
      throw new Error("SecurityError");
    }
  };
  const store = makeStore(true);
  const first = identities(store, BOTH, 0);
  assert.equal(identities(store, BOTH, 1).anonymousId, first.anonymousId);
});

test("a localStorage that starts throwing later still answers from memory", () => {
  const items = new Map();
  let broken = false;
  const local = {
    getItem: (key) => {
      if (broken) throw new Error("revoked");
      return items.has(key) ? items.get(key) : null;
    },
    setItem: (key, value) => {
      if (broken) throw new Error("QuotaExceededError");
      items.set(key, value);
    },
    removeItem: (key) => items.delete(key)
  };
  globalThis.window = {localStorage: local};
  const store = makeStore(true);
  const first = identities(store, BOTH, 0);
  assert.equal(items.get("collector.anonymousId"), first.anonymousId);
  broken = true;
  assert.equal(identities(store, BOTH, 1).anonymousId, first.anonymousId);
});

test("uuids are version 4", () => {
  assert.match(uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test("Retry-After is read as seconds or a date, else null", () => {
  assert.equal(retryAfter("2"), 2000);
  assert.equal(retryAfter(null), null);
  assert.equal(retryAfter("soon"), null);
  assert.equal(retryAfter(new Date(Date.now() - 5000).toUTCString()), 0);
});

test("the back-off grows to a minute at most, jittered down to half", () => {
  for (const failures of [0, 3, 20]) {
    const delay = backoff(failures);
    const full = Math.min(60000, 1000 * 2 ** failures);
    assert.ok(delay >= full / 2 && delay <= full, `${failures}: ${delay}`);
  }
});

test("what the collector would refuse is named", () => {
  const ok = {eventType: "signup", eventId: "e-1", properties: {plan: "pro"}};
  assert.equal(refusal(ok), null);
  assert.match(refusal({...ok, eventType: " "}), /eventType/);
  assert.match(refusal({...ok, eventType: "x".repeat(129)}), /eventType/);
  assert.match(refusal({...ok, eventType: "tab\there"}), /eventType/);
  assert.match(refusal({...ok, userId: "u".repeat(257)}), /userId/);
  assert.match(refusal({...ok, properties: {n: 10n}}), /not JSON/);
});
