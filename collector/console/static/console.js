// The console page: polls the console's JSON API and draws what it answers.
// Every value that comes from an event is put in the page with textContent,
// never as markup (the Content-Security-Policy forbids inline script too).
"use strict";

const EVENTS_EVERY_MS = 1000;
const OVERVIEW_EVERY_MS = 5000;
const CHARTS_EVERY_MS = 10000;
const SHOWN_EVENTS = 200;
const COLORS = ["#2563eb", "#dc6803", "#039855", "#c11574", "#6938ef", "#0e9384", "#b54708", "#475467"];

const $ = (id) => document.getElementById(id);
const state = { seen: new Set(), shown: [], pending: 0, paused: false, types: new Set(), charts: {} };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function keyOf(event) {
  return `${event.pingId}/${event.eventId}`;
}

async function getJSON(path) {
  const answer = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
  return answer.json();
}

function setStatus(text, down) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("down", Boolean(down));
}

// -- live events -------------------------------------------------------------

// The "leave bots out" switch: every query then asks for people's events only.
function withBots(params) {
  if ($("hide-bots").checked) params.set("bots", "exclude");
  return params;
}

function eventsQuery() {
  const params = new URLSearchParams({ limit: String(SHOWN_EVENTS) });
  const type = $("type-filter").value;
  const search = $("search").value.trim();
  if (type) params.set("type", type);
  if (search) params.set("q", search);
  return `/api/events?${withBots(params)}`;
}

function clientText(client) {
  if (!client || typeof client !== "object") return "";
  const who = client.ip || client.keyId || client.userAgent || "";
  const bot = client.bot && typeof client.bot === "object" ? client.bot : null;
  return bot ? `${who} · bot: ${bot.name} (${bot.category})` : who;
}

function renderEvents(events) {
  const body = document.querySelector("#events tbody");
  const rows = events.map((event) => {
    const row = el("tr");
    row.dataset.pingId = String(event.pingId ?? "");
    row.dataset.eventId = String(event.eventId ?? "");
    if (!state.seen.has(keyOf(event)) && state.seen.size > 0) row.classList.add("fresh");
    row.append(
      el("td", event.receivedAt, "mono"),
      el("td", event.eventType),
      el("td", event.eventId, "mono"),
      el("td", event.pingId, "mono"),
      el("td", clientText(event.client)),
    );
    row.addEventListener("click", () => showDetail(event));
    return row;
  });
  body.replaceChildren(...rows);
  updateTypeFilter(events.map((event) => String(event.eventType)));
  for (const event of events) state.seen.add(keyOf(event));
  state.shown = events;
  state.pending = 0;
  $("new-events").hidden = true;
}

function showDetail(event) {
  $("detail-text").textContent = JSON.stringify(event, null, 2);
  $("detail").hidden = false;
}

async function pollEvents() {
  try {
    const { events } = await getJSON(eventsQuery());
    setStatus(`live · ${new Date().toLocaleTimeString()}`);
    if (state.paused) {
      // The user is reading further down: keep the rows still, say what came.
      state.pending = events.filter((event) => !state.seen.has(keyOf(event))).length;
      const marker = $("new-events");
      marker.hidden = state.pending === 0;
      marker.textContent = `${state.pending}${state.pending >= SHOWN_EVENTS ? "+" : ""} new events`;
    } else {
      renderEvents(events);
    }
  } catch (error) {
    setStatus(`not answering (${error.message})`, true);
  }
}

function watchScrolling() {
  const scroll = $("events-scroll");
  scroll.addEventListener("scroll", () => {
    const wasPaused = state.paused;
    state.paused = scroll.scrollTop > 4;
    if (wasPaused && !state.paused) pollEvents();
  });
  $("new-events").addEventListener("click", () => {
    scroll.scrollTop = 0;
    state.paused = false;
    pollEvents();
  });
  $("type-filter").addEventListener("change", () => { state.seen.clear(); pollEvents(); });
  $("search").addEventListener("input", () => { state.seen.clear(); pollEvents(); });
  $("hide-bots").addEventListener("change", () => { state.seen.clear(); pollEvents(); pollOverview(); pollCharts(); });
  $("close-detail").addEventListener("click", () => { $("detail").hidden = true; });
}

// -- charts ------------------------------------------------------------------

function drawChart(id, answer) {
  const container = $(id);
  const types = Object.keys(answer.series);
  const xs = types.length ? answer.series[types[0]].map((point) => point[0]) : [];
  const data = [xs, ...types.map((type) => answer.series[type].map((point) => point[1]))];
  const signature = types.join("\u0000");
  const existing = state.charts[id];
  if (existing && existing.signature === signature) {
    existing.plot.setData(data);
    return;
  }
  if (existing) existing.plot.destroy();
  const options = {
    width: Math.max(300, container.clientWidth - 2),
    height: 240,
    scales: { x: { time: true } },
    axes: [{}, { label: `events per ${answer.step_seconds === 60 ? "minute" : "hour"}` }],
    series: [{}, ...types.map((type, n) => ({ label: type, stroke: COLORS[n % COLORS.length], width: 1.5 }))],
  };
  const plot = new uPlot(options, data, container);
  state.charts[id] = { plot, signature };
  container.dataset.drawn = String(xs.length);
}

async function pollCharts() {
  try {
    const [hour, week] = await Promise.all([
      getJSON(`/api/series?${withBots(new URLSearchParams({ minutes: "60" }))}`),
      getJSON(`/api/series?${withBots(new URLSearchParams({ minutes: "10080" }))}`),
    ]);
    drawChart("chart-minutes", hour);
    drawChart("chart-hours", week);
    updateTypeFilter(Object.keys(week.series));
  } catch (error) {
    setStatus(`charts not answering (${error.message})`, true);
  }
}

function updateTypeFilter(types) {
  const select = $("type-filter");
  for (const type of [...new Set(types)].sort()) {
    if (state.types.has(type)) continue;
    state.types.add(type);
    const option = el("option", type);
    option.value = type;
    select.append(option);
  }
}

// -- overview ----------------------------------------------------------------

function fillTable(selector, rows) {
  const body = document.querySelector(`${selector} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const row = el("tr");
    row.append(...cells.map((cell) => el("td", cell)));
    return row;
  }));
}

function bytes(n) {
  if (n === null || n === undefined) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

async function pollOverview() {
  try {
    const overview = await getJSON(`/api/overview?${withBots(new URLSearchParams())}`);
    fillTable("#top-types", overview.topTypes);
    fillTable("#bot-share", overview.botShare.map(([type, events, bots]) =>
      [type, events - bots, bots, `${Math.round((100 * bots) / events)}%`]));
    fillTable("#rejections", Object.entries(overview.rejections.lastHour));
    const problem = $("rejections-problem");
    problem.hidden = !overview.rejections.problem;
    problem.textContent = overview.rejections.problem || "";
    fillTable("#plan-violations", overview.planViolations.lastHour);
    fillTable("#dead-letters", overview.deadLetters.map((letter) => [letter.receivedAt ?? "", letter.code, letter.message]));
    const store = overview.store;
    $("store-summary").textContent =
      `${store.files.length} files, ${bytes(store.bytes)}; disk free ${bytes(store.diskFreeBytes)}; ` +
      `retention: ${store.retentionDays ? `${store.retentionDays} days` : "no age limit"}, ` +
      `${store.retentionBytes ? bytes(store.retentionBytes) : "no size limit"}; compression: ${store.compress}`;
    // Over several data directories (one per VM): each instance's store, and each file's instance.
    const instances = overview.stores || [];
    $("store-instances").hidden = instances.length === 0;
    fillTable("#store-instances", instances.map((each) => [each.instance, each.files.length, bytes(each.bytes),
      bytes(each.diskFreeBytes), Object.keys(each.damagedFiles).length]));
    fillTable("#store-files", store.files.slice(0, 50).map((file) =>
      [file.instance ? `${file.instance}/${file.name}` : file.name, file.state, bytes(file.bytes)]));
  } catch (error) {
    setStatus(`overview not answering (${error.message})`, true);
  }
}

function every(ms, poll) {
  poll();
  setInterval(poll, ms);
}

watchScrolling();
every(EVENTS_EVERY_MS, pollEvents);
every(OVERVIEW_EVERY_MS, pollOverview);
every(CHARTS_EVERY_MS, pollCharts);
