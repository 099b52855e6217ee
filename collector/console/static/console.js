// The console page: polls the console's JSON API and draws what it answers.
// Every value that comes from an event is put in the page with textContent,
// never as markup (the Content-Security-Policy forbids inline script too).
// timerange.js (the range and the zone) and live.js (the table) are loaded before this file.
"use strict";

const EVENTS_EVERY_MS = 1000;
const OVERVIEW_EVERY_MS = 5000;
const CHARTS_EVERY_MS = 10000;
const COLORS = ["#2563eb", "#dc6803", "#039855", "#c11574", "#6938ef", "#0e9384", "#b54708", "#475467"];

const $ = (id) => document.getElementById(id);
const state = { types: new Set(), charts: {} };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function getJSON(path) {
  const answer = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (!answer.ok) {
    const error = new Error(`${path}: ${answer.status}`);
    error.status = answer.status;
    // The collector's error shape: its message says what to change.
    error.detail = await answer.json().then((body) => body.message, () => null);
    throw error;
  }
  return answer.json();
}

function setStatus(text, down) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("down", Boolean(down));
}

// -- filters shared by the table and the charts ------------------------------

// The "leave bots out" switch: every query then asks for people's events only.
function withBots(params) {
  if ($("hide-bots").checked) params.set("bots", "exclude");
  return params;
}

function watchFilters() {
  watchTable();
  $("hide-bots").addEventListener("change", () => { askAgain(); pollOverview(); pollCharts(); });
  watchTimeChoice(() => { askAgain(); pollCharts(); });
}

// -- charts ------------------------------------------------------------------

// A range with no events still gets its time axis: the buckets from the one holding `from` to the one holding `to`.
function emptyAxis(params, step) {
  if (!params.has("from") || !params.has("to")) return [];
  const xs = [];
  for (let x = Math.floor(params.get("from") / step) * step; x <= params.get("to"); x += step) xs.push(x);
  return xs;
}

function drawChart(id, answer, params) {
  const container = $(id);
  const types = Object.keys(answer.series);
  const xs = types.length ? answer.series[types[0]].map((point) => point[0]) : emptyAxis(params, answer.step_seconds);
  const data = [xs, ...types.map((type) => answer.series[type].map((point) => point[1]))];
  const signature = [timeChoice.tz, answer.step_seconds, ...types].join("\u0000");
  const existing = state.charts[id];
  container.dataset.drawn = String(xs.length);
  container.dataset.tz = timeChoice.tz;
  if (existing && existing.signature === signature) {
    existing.plot.setData(data);
    return;
  }
  if (existing) existing.plot.destroy();
  const options = {
    width: Math.max(300, container.clientWidth - 2),
    height: 240,
    scales: { x: { time: true } },
    tzDate: chartZone(),
    axes: [{}, { label: `events per ${answer.step_seconds === 60 ? "minute" : "hour"}` }],
    series: [{}, ...types.map((type, n) => ({ label: type, stroke: COLORS[n % COLORS.length], width: 1.5 }))],
  };
  const plot = new uPlot(options, data, container);
  state.charts[id] = { plot, signature };
}

// The first chart follows the chosen range (by the minute up to a day, else by the hour); the second is the week.
async function pollCharts() {
  const params = withBots(rangeParams(new URLSearchParams(), true));
  try {
    const [range, week] = await Promise.all([
      getJSON(`/api/series?${params}`),
      getJSON(`/api/series?${withBots(new URLSearchParams({ minutes: "10080" }))}`),
    ]);
    $("chart-range-title").textContent =
      `Events per ${range.step_seconds === 60 ? "minute" : "hour"}, ${rangeLabel()} (${zoneName()})`;
    drawChart("chart-minutes", range, params);
    drawChart("chart-hours", week);
    updateTypeFilter(Object.keys(week.series));
  } catch (error) {
    if (error.status === 400) showRangeProblem(error.detail || error.message);
    else setStatus(`charts not answering (${error.message})`, true);
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
    setInstances(overview.instances);
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

watchFilters();
every(EVENTS_EVERY_MS, pollEvents);
every(OVERVIEW_EVERY_MS, pollOverview);
every(CHARTS_EVERY_MS, pollCharts);
