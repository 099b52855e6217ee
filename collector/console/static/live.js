// The live table: who and what each event is, pausing on demand, an opened row kept open, "new" since the last look.
// Every value from an event is put in the page with textContent, never as markup.
"use strict";

const SHOWN_EVENTS = 200;
const PREVIEW_PROPERTIES = 4;
const PREVIEW_VALUE_CHARS = 48;
const PREVIEW_CHARS = 96;
// While the table is live and the page seen, a new row stays marked this long.
const FRESH_FOR_MS = 5000;
// What the API adds beside the stored fields (docs/console.md): not part of the stored line.
const ADDED_KEYS = ["clientName", "instance"];

// rows: key -> <tr> shown; paused: why ("button", "click", "selection", "scroll") or null;
// open: the key of the row opened (by pingId/eventId, never by position); looked: whether the rows
// shown were seen, so that what comes next is new (not so on a first page, or after a new question);
// answerDue: a new question was asked, whose answer is shown even while paused.
const live = {
  rows: new Map(), paused: null, open: null, looked: false, showInstance: false, asked: 0, answerDue: false,
  searchTimer: null,
};

function keyOf(event) {
  return `${event.pingId}/${event.eventId}`;
}

function clip(text, chars) {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

// The first few properties as key=value, as text: the whole line is one click away.
function propertiesPreview(properties) {
  if (!properties || typeof properties !== "object" || Array.isArray(properties)) return "";
  const entries = Object.entries(properties);
  const parts = entries.slice(0, PREVIEW_PROPERTIES).map(([name, value]) =>
    `${name}=${clip(typeof value === "string" ? value : JSON.stringify(value), PREVIEW_VALUE_CHARS)}`);
  if (entries.length > PREVIEW_PROPERTIES) parts.push("…");
  return clip(parts.join(", "), PREVIEW_CHARS);
}

// userId, else anonymousId said to be one.
function userText(event) {
  if (event.userId !== undefined && event.userId !== null && event.userId !== "") return String(event.userId);
  if (event.anonymousId !== undefined && event.anonymousId !== null) return `${event.anonymousId} (anonymous)`;
  return "";
}

function clientText(event) {
  const client = event.client && typeof event.client === "object" ? event.client : {};
  const bot = client.bot && typeof client.bot === "object" ? client.bot : null;
  if (bot) return `bot: ${bot.name} (${bot.category})`;
  return event.clientName || client.ip || client.keyId || "";
}

function columns() {
  const names = [`received (${zoneName()})`, "user", "eventType", "properties", "client"];
  return live.showInstance ? [...names, "instance"] : names;
}

function renderHead() {
  document.querySelector("#events thead tr").replaceChildren(...columns().map((name) => el("th", name)));
}

function eventRow(event) {
  const row = el("tr");
  row.dataset.pingId = String(event.pingId ?? "");
  row.dataset.eventId = String(event.eventId ?? "");
  const client = event.client && typeof event.client === "object" ? event.client : {};
  const cells = [
    el("td", formatStamp(event.receivedAt), "mono"),
    el("td", userText(event), event.userId ? "" : "anonymous"),
    el("td", event.eventType),
    el("td", propertiesPreview(event.properties), "mono"),
    el("td", clientText(event)),
  ];
  cells[4].title = [client.userAgent, client.ip].filter(Boolean).join(" · ");
  if (live.showInstance) cells.push(el("td", event.instance ?? ""));
  row.append(...cells);
  row.addEventListener("click", () => openRow(event));
  return row;
}

function renderEvents(events) {
  const now = Date.now();
  const rows = new Map();
  for (const event of events) {
    const key = keyOf(event);
    let row = live.rows.get(key);
    if (!row) {
      row = eventRow(event);
      if (live.looked) {
        row.classList.add("fresh");
        row.dataset.arrived = String(now);
      }
    } else if (row.classList.contains("fresh") && !document.hidden && now - Number(row.dataset.arrived) > FRESH_FOR_MS) {
      row.classList.remove("fresh");
    }
    row.classList.toggle("open", key === live.open);
    rows.set(key, row);
  }
  document.querySelector("#events tbody").replaceChildren(...rows.values());
  live.rows = rows;
  live.looked = true;
  updateTypeFilter(events.map((event) => String(event.eventType)));
}

function openRow(event) {
  live.open = keyOf(event);
  for (const [key, row] of live.rows) row.classList.toggle("open", key === live.open);
  const stored = { ...event };
  for (const name of ADDED_KEYS) delete stored[name];
  $("detail-text").textContent = JSON.stringify(stored, null, 2);
  $("detail").hidden = false;
}

function closeRow() {
  live.open = null;
  for (const row of live.rows.values()) row.classList.remove("open");
  $("detail").hidden = true;
}

function eventsQuery() {
  const params = new URLSearchParams({ limit: String(SHOWN_EVENTS) });
  const type = $("type-filter").value;
  const search = $("search").value.trim();
  if (type) params.set("type", type);
  if (search) params.set("q", search);
  return `/api/events?${withBots(rangeParams(params, false))}`;
}

function showSearchProblem(text) {
  $("search-problem").hidden = !text;
  $("search-problem").textContent = text || "";
}

// Paused, the rows stay still and the page says how many events came since.
function showPaused(count) {
  $("paused-note").hidden = false;
  $("paused-note").textContent = `paused: ${count}${count >= SHOWN_EVENTS ? "+" : ""} new`;
  $("pause").textContent = "Resume";
}

function pauseTable(reason) {
  if (live.paused) return;
  live.paused = reason;
  showPaused(0);
}

function resumeTable() {
  live.paused = null;
  // Resuming is a look: what was marked new before is seen; what came while paused is new.
  for (const row of live.rows.values()) row.classList.remove("fresh");
  $("paused-note").hidden = true;
  $("pause").textContent = "Pause";
  pollEvents();
}

async function pollEvents() {
  live.asked += 1;
  const asked = live.asked;
  try {
    const { events } = await getJSON(eventsQuery());
    if (asked !== live.asked) return; // a newer question was asked meanwhile
    setStatus(`live · ${new Date().toLocaleTimeString()}`);
    showSearchProblem("");
    if (live.paused && !live.answerDue) {
      showPaused(events.filter((event) => !live.rows.has(keyOf(event))).length);
    } else {
      renderEvents(events);
      live.answerDue = false;
      if (live.paused) showPaused(0);
    }
  } catch (error) {
    if (error.status === 400) showSearchProblem(error.detail || error.message);
    else setStatus(`not answering (${error.message})`, true);
  }
}

// A new question (type, search, range, zone, bots): its answer is shown even when paused, and nothing in it is "new".
function askAgain() {
  live.rows = new Map();
  live.looked = false;
  live.answerDue = true;
  renderHead();
  pollEvents();
}

function setInstances(instances) {
  const several = Array.isArray(instances) && instances.length > 1;
  if (several !== live.showInstance) {
    live.showInstance = several;
    askAgain();
  }
}

function watchTable() {
  const scroll = $("events-scroll");
  scroll.addEventListener("click", () => pauseTable("click"));
  scroll.addEventListener("scroll", () => {
    if (scroll.scrollTop > 4) pauseTable("scroll");
    else if (live.paused === "scroll") resumeTable();
  });
  document.addEventListener("selectionchange", () => {
    const selection = document.getSelection();
    if (selection && !selection.isCollapsed && $("events").contains(selection.anchorNode)) pauseTable("selection");
  });
  document.addEventListener("visibilitychange", () => {
    // Rows that came while the page was hidden are new from when it is seen again.
    if (!document.hidden) for (const row of live.rows.values()) row.dataset.arrived = String(Date.now());
  });
  $("pause").addEventListener("click", () => (live.paused ? resumeTable() : pauseTable("button")));
  $("type-filter").addEventListener("change", askAgain);
  $("search").addEventListener("input", () => {
    clearTimeout(live.searchTimer);
    live.searchTimer = setTimeout(askAgain, 300);
  });
  $("close-detail").addEventListener("click", closeRow);
  renderHead();
}
