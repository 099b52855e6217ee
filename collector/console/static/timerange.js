// The time range and the time zone the operator chose: one choice for the live table and the charts.
// A quick choice is "the last N seconds" (its start moves with the clock); a custom one is two instants,
// typed in the chosen zone. The API is given Unix seconds (docs/console.md).
"use strict";

const RANGE_LABELS = {
  900: "last 15 minutes", 3600: "last hour", 21600: "last 6 hours", 86400: "last 24 hours", 604800: "last 7 days",
};
// tz: "utc" or "local" (the browser's zone); last: seconds back from now, or null for from..to.
const timeChoice = { tz: "utc", last: 3600, from: null, to: null };

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// `from` (and `to`) for the API. The live table leaves `to` out of a quick choice, so that an event
// stored after this browser's clock says "now" (the clocks differ a little) is still shown; the
// charts give both, so that the number of points does not depend on when the server answers.
function rangeParams(params, withEnd) {
  if (timeChoice.last !== null) {
    const now = nowSeconds();
    params.set("from", String(now - timeChoice.last));
    if (withEnd) params.set("to", String(now));
  } else if (timeChoice.from !== null && timeChoice.to !== null) {
    params.set("from", String(timeChoice.from));
    params.set("to", String(timeChoice.to));
  }
  return params;
}

function rangeLabel() {
  if (timeChoice.last !== null) return RANGE_LABELS[timeChoice.last] || `last ${timeChoice.last} s`;
  return `${formatTime(timeChoice.from).slice(0, 16)} to ${formatTime(timeChoice.to).slice(0, 16)}`;
}

function zoneName() {
  return timeChoice.tz === "utc" ? "UTC" : "local";
}

function twoDigits(n) {
  return String(n).padStart(2, "0");
}

// "2026-12-06 09:40:01" in the chosen zone.
function formatTime(seconds) {
  const d = new Date(seconds * 1000);
  const utc = timeChoice.tz === "utc";
  const parts = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const [year, ...rest] = parts.map(twoDigits);
  return `${year}-${rest[0]}-${rest[1]} ${rest[2]}:${rest[3]}:${rest[4]}`;
}

// A stored receivedAt in the chosen zone; anything unreadable is shown as stored.
function formatStamp(text) {
  const ms = Date.parse(String(text));
  return Number.isNaN(ms) ? String(text ?? "") : formatTime(ms / 1000);
}

// uPlot draws in the browser's zone unless told otherwise (its tzDate option).
function chartZone() {
  return timeChoice.tz === "utc" ? (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC") : undefined;
}

// A datetime-local input's value ("2026-12-06T09:40") <-> Unix seconds, in the chosen zone.
function inputValue(seconds) {
  return formatTime(seconds).slice(0, 16).replace(" ", "T");
}

function parseInput(value) {
  if (!value) return null;
  const ms = Date.parse(timeChoice.tz === "utc" ? `${value}Z` : value);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

function showRangeProblem(text) {
  const problem = document.getElementById("range-problem");
  problem.hidden = !text;
  problem.textContent = text || "";
}

// Calls changed() after every change of the range or the zone.
function watchTimeChoice(changed) {
  const range = document.getElementById("range");
  const from = document.getElementById("range-from");
  const to = document.getElementById("range-to");
  const fillInputs = () => {
    if (timeChoice.from !== null) from.value = inputValue(timeChoice.from);
    if (timeChoice.to !== null) to.value = inputValue(timeChoice.to);
  };
  range.addEventListener("change", () => {
    const custom = range.value === "custom";
    document.getElementById("custom-range").hidden = !custom;
    if (custom) {
      // Start from what was shown: the quick choice's instants, to edit.
      const now = nowSeconds();
      if (timeChoice.last !== null) [timeChoice.from, timeChoice.to] = [now - timeChoice.last, now];
      timeChoice.last = null;
      fillInputs();
    } else {
      timeChoice.last = Number(range.value);
    }
    showRangeProblem("");
    changed();
  });
  const typed = () => {
    const [start, end] = [parseInput(from.value), parseInput(to.value)];
    if (start === null || end === null || start >= end) {
      showRangeProblem("choose a from before the to");
      return;
    }
    [timeChoice.from, timeChoice.to] = [start, end];
    showRangeProblem("");
    changed();
  };
  from.addEventListener("change", typed);
  to.addEventListener("change", typed);
  document.getElementById("tz").addEventListener("change", (event) => {
    timeChoice.tz = event.target.value === "local" ? "local" : "utc";
    fillInputs(); // the same instants, written in the other zone
    changed();
  });
}
