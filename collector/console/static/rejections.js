// The console's rejections: the latest dead letters by code, each opened in full,
// and a replay button where the console offers it (a key and --allow-replay).
// Every value from a letter, its body first, goes in the page with textContent,
// never as markup: a body is whatever a client sent.
"use strict";

(() => {
  const EVERY_MS = 5000;
  const SHOWN = 100;
  const $ = (id) => document.getElementById(id);
  const view = { code: "", open: null, replay: false, codes: [] };

  function cell(text, className) {
    const node = document.createElement("td");
    node.textContent = text === undefined || text === null ? "" : String(text);
    if (className) node.className = className;
    return node;
  }

  async function call(path, options) {
    const answer = await fetch(path, { credentials: "same-origin", cache: "no-store", ...options });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(body.message || `${path}: ${answer.status}`);
    return body;
  }

  // What an operator needs first, per kind of rejection.
  function summary(letter) {
    if (letter.preflight) {
      const asked = letter.preflight.headers ? ` with ${letter.preflight.headers}` : "";
      return `preflight from ${letter.preflight.origin} for ${letter.preflight.method}${asked}`;
    }
    if (letter.code === "missing_write_key") return "no write key";
    if (letter.triedKeyId) return `key id ${letter.triedKeyId} tried`;
    if (letter.details && letter.code === "tracking_plan_violation") return JSON.stringify(letter.details);
    return letter.message;
  }

  function client(letter) {
    const c = letter.client || {};
    return [c.ip, c.keyId ? `key ${c.keyId}` : null, c.userAgent].filter(Boolean).join(" · ");
  }

  function updateCodes(codes) {
    const names = Object.keys(codes).sort();
    if (names.join() === view.codes.join()) return;
    view.codes = names;
    const select = $("rejection-code");
    const chosen = select.value;
    select.replaceChildren(new Option("all codes", ""));
    for (const name of names) select.append(new Option(name, name));
    select.value = names.includes(chosen) ? chosen : "";
  }

  function render(letters) {
    const rows = letters.map((letter) => {
      const row = document.createElement("tr");
      row.dataset.letterId = letter.id;
      row.append(cell(letter.receivedAt), cell(letter.code), cell(letter.status), cell(client(letter)),
        cell(summary(letter)));
      row.addEventListener("click", () => openLetter(letter.id));
      return row;
    });
    document.querySelector("#rejected-letters tbody").replaceChildren(...rows);
  }

  async function poll() {
    try {
      const params = new URLSearchParams({ limit: String(SHOWN) });
      if (view.code) params.set("code", view.code);
      const answer = await call(`/api/rejections?${params}`);
      view.replay = answer.replay;
      updateCodes(answer.codes);
      render(answer.letters);
    } catch (error) {
      $("letter-problem").hidden = false;
      $("letter-problem").textContent = `rejections not answering (${error.message})`;
    }
  }

  function field(name, value) {
    if (value === undefined || value === null) return [];
    const term = document.createElement("dt");
    term.textContent = name;
    const text = document.createElement("dd");
    text.textContent = typeof value === "string" ? value : JSON.stringify(value);
    return [term, text];
  }

  function body(letter) {
    if (typeof letter.body === "string") return letter.body;
    if (letter.bodyBase64) return `(not UTF-8 text; base64) ${letter.bodyBase64}`;
    return "(no body kept: refused before it was read)";
  }

  function showLetter(letter, replay) {
    view.open = letter.id;
    $("letter").hidden = false;
    $("letter").dataset.letterId = letter.id;
    const c = letter.client || {};
    $("letter-fields").replaceChildren(
      ...field("id", letter.id), ...field("received", letter.receivedAt), ...field("status", letter.status),
      ...field("code", letter.code), ...field("message", letter.message), ...field("client address", c.ip),
      ...field("User-Agent", c.userAgent), ...field("write key id", c.keyId),
      ...field("write key id tried", letter.triedKeyId), ...field("preflight", letter.preflight),
      ...field("details", letter.details), ...field("path", letter.path),
      ...field("Idempotency-Key", letter.idempotencyKey), ...field("pingId", letter.pingId),
      ...field("body bytes", letter.bodyTruncated ? `${letter.bodyBytes} (cut)` : letter.bodyBytes),
    );
    $("letter-body").textContent = body(letter);
    const button = $("replay-letter");
    // Absent, not disabled, where the console cannot replay: nothing on the page suggests a write it will refuse.
    button.hidden = !replay.allowed || replay.replayed || Boolean(replay.why_not);
    $("replay-state").textContent = !replay.allowed ? "" : replay.replayed ? "replayed"
      : replay.why_not ? `not replayable: ${replay.why_not}` : "";
  }

  async function openLetter(id) {
    try {
      const answer = await call(`/api/deadletters/${encodeURIComponent(id)}`);
      showLetter(answer.letter, answer.replay);
    } catch (error) {
      $("replay-state").textContent = error.message;
    }
  }

  async function replayOpen() {
    const id = view.open;
    const button = $("replay-letter");
    button.disabled = true;
    try {
      // JSON, as the console requires: no form on another page can send it.
      const outcome = await call(`/api/deadletters/${encodeURIComponent(id)}/replay`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
      });
      const detail = outcome.pingId ? `, pingId ${outcome.pingId}` : outcome.why ? `: ${outcome.why}` : "";
      $("replay-state").textContent = `${outcome.outcome}${outcome.code ? ` (${outcome.code})` : ""}${detail}`;
      button.hidden = outcome.outcome === "stored" || outcome.outcome.startsWith("already");
    } catch (error) {
      $("replay-state").textContent = `replay failed: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  $("rejection-code").addEventListener("change", (event) => { view.code = event.target.value; poll(); });
  $("close-letter").addEventListener("click", () => { $("letter").hidden = true; view.open = null; });
  $("replay-letter").addEventListener("click", replayOpen);
  poll();
  setInterval(poll, EVERY_MS);
})();
